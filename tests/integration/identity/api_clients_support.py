"""Helpers of the API-client tests: a client created by an administrator, and its token."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import httpx
from tests.factories import signed_in

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role
from clinvault.models.identity import Organization

FORM = {"grant_type": "client_credentials"}


@dataclass
class Client:
    org: Organization
    admin: dict[str, str]
    id: str
    secret: str


async def new_client(
    client: httpx.AsyncClient, container: Container, org: Organization, name: str = "EHR export"
) -> Client:
    _, admin = await signed_in(client, container, org, roles=[Role.ORG_ADMIN])
    created = await client.post(
        "/api/clients", json={"name": name, "scopes": ["ingest"]}, headers=admin
    )
    assert created.status_code == 201, created.text
    body = created.json()
    return Client(org, admin, body["client_id"], body["client_secret"])


def basic(client_id: str, secret: str) -> dict[str, str]:
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


async def exchange_basic(
    client: httpx.AsyncClient, client_id: str, secret: str, **form: str
) -> httpx.Response:
    return await client.post(
        "/api/auth/token", data={**FORM, **form}, headers=basic(client_id, secret)
    )


async def exchange_body(client: httpx.AsyncClient, client_id: str, secret: str) -> httpx.Response:
    return await client.post(
        "/api/auth/token", data={**FORM, "client_id": client_id, "client_secret": secret}
    )


async def bearer(client: httpx.AsyncClient, who: Client) -> dict[str, str]:
    answer = await exchange_basic(client, who.id, who.secret)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return {"Authorization": f"Bearer {body['access_token']}"}


def oauth_error(response: httpx.Response, status: int, error: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, Any] = response.json()
    assert body["error"] == error, body
    assert body["error_description"]
    return body
