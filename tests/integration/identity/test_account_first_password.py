"""An account an administrator created must choose its own password before anything else."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from tests.factories import DEFAULT_PASSWORD, create_org, login, problem, signed_in
from tests.integration.web.portal_helpers import form_token, sign_in

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role

CHOSEN = "my very own secret meadow"


@pytest.fixture
async def portal(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("198.51.100.9", 4444))
    async with httpx.AsyncClient(
        transport=transport, base_url="https://testserver", follow_redirects=False
    ) as http:
        yield http


async def admin_creates(
    client: httpx.AsyncClient, container: Container
) -> tuple[str, dict[str, str]]:
    org = await create_org(container)
    _, admin = await signed_in(client, container, org, roles=[Role.ORG_ADMIN])
    email = f"new.nurse.{org.slug}@example.org"
    body = {"email": email, "password": DEFAULT_PASSWORD, "roles": ["nurse"]}
    created = await client.post("/api/users/", json={**body, "display_name": "New"}, headers=admin)
    assert created.status_code == 201, created.text
    return email, admin


async def test_the_api_refuses_everything_but_the_password_change_until_it_is_done(
    client: httpx.AsyncClient, container: Container
) -> None:
    email, _ = await admin_creates(client, container)
    tokens = await login(client, email)
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    refused = problem(
        await client.get("/api/patients/", headers=headers), 403, "password_change_required"
    )
    assert "change-password" in refused["detail"]
    assert (await client.get("/api/auth/profile", headers=headers)).status_code == 200

    changed = await client.post(
        "/api/auth/change-password",
        json={"current_password": DEFAULT_PASSWORD, "new_password": CHOSEN},
        headers=headers,
    )
    assert changed.status_code == 204, changed.text
    fresh = await login(client, email, CHOSEN)
    again = {"Authorization": f"Bearer {fresh['access_token']}"}
    assert (await client.get("/api/patients/", headers=again)).status_code == 200


async def test_accounts_made_otherwise_are_not_flagged(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    _, headers = await signed_in(client, container, org, roles=[Role.NURSE])
    assert (await client.get("/api/patients/", headers=headers)).status_code == 200


async def test_the_portal_asks_for_the_password_first_then_returns_to_the_page(
    client: httpx.AsyncClient, portal: httpx.AsyncClient, container: Container
) -> None:
    email, _ = await admin_creates(client, container)
    signed = await sign_in(portal, email, next_path="/patients")
    assert signed.status_code == 303
    page = await portal.get("/patients")
    assert page.status_code == 303
    assert page.headers["location"] == "/account/password?next=%2Fpatients"
    home = await portal.get("/")
    assert home.headers["location"] == "/account/password"

    form = await portal.get("/account/password?next=/patients")
    assert form.status_code == 200
    assert "Choose your password" in form.text
    token = form_token(form.text, "/account/password")
    fields = {"csrf_token": token, "next": "/patients", "current_password": DEFAULT_PASSWORD}
    same = await portal.post(
        "/account/password",
        data={**fields, "password": DEFAULT_PASSWORD, "password_confirm": DEFAULT_PASSWORD},
    )
    assert same.status_code == 400
    assert "different from your current one" in same.text
    token = form_token(same.text, "/account/password")
    done = await portal.post(
        "/account/password",
        data={**fields, "csrf_token": token, "password": CHOSEN, "password_confirm": CHOSEN},
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/patients"
    assert (await portal.get("/patients")).status_code == 200
    await login(client, email, CHOSEN)
