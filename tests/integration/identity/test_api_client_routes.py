"""Deny by default: an API client with the ingest scope, sent to every API route.

Every route that needs a signed-in caller answers the client 403, except the
routes its scope lists (clinvault.identity.clients.scopes), which answer it as
they answer a clerk. A route added later is walked the same way without
touching this file.
"""

from __future__ import annotations

import re
import uuid

import httpx
from fastapi import FastAPI
from tests.factories import create_org
from tests.integration.identity.api_clients_support import bearer, new_client

from clinvault.api_contract import api_routes
from clinvault.bootstrap import Container
from clinvault.identity.clients.scopes import SCOPE_ACTIONS, Scope

PARAM = re.compile(r"\{[^}]+\}")


async def test_an_ingest_client_gets_403_everywhere_but_the_ingest_routes(
    app: FastAPI, client: httpx.AsyncClient, container: Container
) -> None:
    made = await new_client(client, container, await create_org(container))
    headers = await bearer(client, made)
    allowed = SCOPE_ACTIONS[Scope.INGEST]
    reached: set[str] = set()
    wrong: list[str] = []
    walked = 0
    for path, route in api_routes(app):
        for method in sorted((route.methods or set()) - {"HEAD"}):
            url = PARAM.sub(lambda _: str(uuid.uuid4()), path)
            anonymous = await client.request(method, url)
            if anonymous.status_code != 401:
                continue  # a public route (sign-in, health, the signed PUT): not the client's
            walked += 1
            answer = await client.request(method, url, headers=headers)
            if route.name in allowed:
                reached.add(route.name)
                if answer.status_code in (401, 403):
                    wrong.append(f"{method} {path}: {answer.status_code}, expected it to pass")
            elif answer.status_code != 403:
                wrong.append(f"{method} {path} ({route.name}): {answer.status_code}, not 403")
            elif answer.json()["code"] != "api_client_scope_denied":
                wrong.append(f"{method} {path}: {answer.json()['code']}")
    assert not wrong, "\n".join(wrong)
    assert reached == allowed
    assert walked > 60, walked
