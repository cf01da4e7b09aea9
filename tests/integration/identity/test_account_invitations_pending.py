"""Pending invitations: listed for the organization administrator, resent and withdrawn."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from tests.factories import create_org, mail_text, mails_to, problem, signed_in
from tests.integration.web.portal_helpers import form_token, sign_in

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role

LINK = re.compile(r"https?://\S+/invite/([A-Za-z0-9_-]+)")


@pytest.fixture
async def portal(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("198.51.100.11", 4444))
    async with httpx.AsyncClient(
        transport=transport, base_url="https://testserver", follow_redirects=False
    ) as http:
        yield http


async def links_to(container: Container, address: str, count: int) -> list[str]:
    for _ in range(100):
        found = [LINK.search(mail_text(m)) for m in mails_to(container, address)]
        tokens = [m.group(1) for m in found if m is not None]
        if len(tokens) >= count:
            return tokens
        await asyncio.sleep(0.1)
    raise AssertionError(f"fewer than {count} invitation mails to {address}")


async def test_list_resend_and_revoke_through_the_api(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    other = await create_org(container)
    _, admin = await signed_in(client, container, org, roles=[Role.ORG_ADMIN])
    _, stranger = await signed_in(client, container, other, roles=[Role.ORG_ADMIN])
    _, doctor = await signed_in(client, container, org, roles=[Role.DOCTOR])
    made = []
    for name in ("ana", "ben"):
        body = {"email": f"{name}@example.org", "roles": ["nurse"]}
        made.append((await client.post("/api/invitations", json=body, headers=admin)).json())

    listed = await client.get("/api/invitations", headers=admin)
    assert listed.status_code == 200
    assert {row["email"] for row in listed.json()} == {"ana@example.org", "ben@example.org"}
    assert (await client.get("/api/invitations", headers=stranger)).json() == []
    problem(await client.get("/api/invitations", headers=doctor), 403, "permission_denied")

    (first,) = await links_to(container, "ana@example.org", 1)
    url = f"/api/invitations/{made[0]['id']}/resend"
    problem(await client.post(url, headers=stranger), 404, "invitation_not_found")
    resent = await client.post(url, headers=admin)
    assert resent.status_code == 200, resent.text
    assert resent.json()["expires_at"] >= made[0]["expires_at"]
    tokens = await links_to(container, "ana@example.org", 2)
    (second,) = set(tokens) - {first}
    problem(await client.get(f"/api/invitations/{first}"), 404, "invitation_not_found")
    assert (await client.get(f"/api/invitations/{second}")).status_code == 200

    revoked = await client.delete(f"/api/invitations/{made[1]['id']}", headers=admin)
    assert revoked.status_code == 204
    remaining = (await client.get("/api/invitations", headers=admin)).json()
    assert [row["email"] for row in remaining] == ["ana@example.org"]
    again = await client.post(f"/api/invitations/{made[1]['id']}/resend", headers=admin)
    problem(again, 409, "conflict")


async def test_the_portal_lists_resends_and_withdraws(
    client: httpx.AsyncClient, portal: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    admin_user, admin = await signed_in(client, container, org, roles=[Role.ORG_ADMIN])
    body = {"email": "cleo@example.org", "roles": ["clerk"]}
    invitation = (await client.post("/api/invitations", json=body, headers=admin)).json()
    await sign_in(portal, admin_user.email)
    page = await portal.get("/users/invitations")
    assert page.status_code == 200
    assert "cleo@example.org" in page.text
    resend_action = f"/users/invitations/{invitation['id']}/resend"
    resent = await portal.post(
        resend_action, data={"csrf_token": form_token(page.text, resend_action)}
    )
    assert resent.status_code == 303
    assert resent.headers["location"] == "/users/invitations?notice=resent"
    await links_to(container, "cleo@example.org", 2)

    page = await portal.get("/users/invitations?notice=resent")
    assert "previous link no longer works" in page.text
    revoke_action = f"/users/invitations/{invitation['id']}/revoke"
    withdrawn = await portal.post(
        revoke_action, data={"csrf_token": form_token(page.text, revoke_action)}
    )
    assert withdrawn.headers["location"] == "/users/invitations?notice=revoked"
    after = await portal.get("/users/invitations")
    assert "cleo@example.org" not in after.text
    assert "No invitation is waiting" in after.text
