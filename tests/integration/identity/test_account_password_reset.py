"""Forgot password: one answer for every address, a single-use expiring link, audited."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from tests.factories import (
    DEFAULT_PASSWORD,
    create_org,
    create_user,
    login,
    mail_text,
    mails_to,
    problem,
    wait_for_mail,
)
from tests.integration.web.portal_helpers import post_form

from clinvault.bootstrap import Container
from clinvault.identity.accounts.workflows import deliver_reset
from clinvault.identity.principal import Role
from clinvault.models.accounts import PasswordReset
from clinvault.models.audit import AuditEvent
from clinvault.timeutil import utcnow

LINK = re.compile(r"(https?://\S+/reset-password/([A-Za-z0-9_-]+))")
NEW_PASSWORD = "a brand new lighthouse keeper"
VOLATILE = {"date", "x-request-id", "content-length"}


async def ask(client: httpx.AsyncClient, email: str) -> httpx.Response:
    return await client.post("/api/auth/password-reset", json={"email": email})


async def confirm(client: httpx.AsyncClient, token: str, password: str) -> httpx.Response:
    body = {"token": token, "new_password": password}
    return await client.post("/api/auth/password-reset/confirm", json=body)


async def reset_link(container: Container, email: str) -> str:
    mail = await wait_for_mail(container, email, "Reset your clinvault password")
    match = LINK.search(mail_text(mail))
    assert match is not None
    assert match.group(1).startswith(f"{container.settings.public_url}/reset-password/")
    return match.group(2)


async def test_an_unknown_address_gets_the_same_answer_and_no_mail(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    user = await create_user(container, org, roles=[Role.NURSE])
    known = await ask(client, user.email.upper())
    unknown = await ask(client, "nobody-here@example.org")
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert {k: v for k, v in known.headers.items() if k not in VOLATILE} == {
        k: v for k, v in unknown.headers.items() if k not in VOLATILE
    }

    token = await reset_link(container, user.email)
    assert len(mails_to(container, "nobody-here@example.org")) == 0
    async with container.db.sessions() as session:
        rows = (await session.scalars(select(PasswordReset).order_by(PasswordReset.id))).all()
        events = (
            await session.scalars(
                select(AuditEvent).where(AuditEvent.action == "auth.password_reset.request")
            )
        ).all()
    # Both requests wrote a row; only the real account's names a user, and no row holds
    # the address or the token.
    assert [row.user_id for row in rows] == [user.id, None]
    assert all(token not in row.token_hash and "@" not in row.address_key for row in rows)
    assert await deliver_reset(container, rows[1].id) == "no_account"
    assert sorted(e.status_code for e in events) == [202, 202]
    assert {e.actor_id for e in events} == {user.id, None}


async def test_the_link_sets_a_new_password_once_and_ends_every_session(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    user = await create_user(container, org, roles=[Role.DOCTOR])
    before = await login(client, user.email)
    assert (await ask(client, user.email)).status_code == 202
    token = await reset_link(container, user.email)

    problem(await confirm(client, token, "short"), 422, "password_too_weak")
    done = await confirm(client, token, NEW_PASSWORD)
    assert done.status_code == 204, done.text

    problem(await confirm(client, token, NEW_PASSWORD + " again"), 410, "password_reset_used")
    old = await client.post(
        "/api/auth/login", json={"username": user.email, "password": DEFAULT_PASSWORD}
    )
    problem(old, 401, "credentials_invalid")
    assert (await login(client, user.email, NEW_PASSWORD))["user"]["id"] == str(user.id)
    refreshed = await client.post(
        "/api/auth/refresh", json={"refresh_token": before["refresh_token"]}
    )
    assert refreshed.status_code == 401
    stale = await client.get(
        "/api/auth/profile", headers={"Authorization": f"Bearer {before['access_token']}"}
    )
    assert stale.status_code == 401
    await wait_for_mail(container, user.email, "Your clinvault password was changed")


async def test_an_expired_or_unknown_link_is_refused(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    user = await create_user(container, org, roles=[Role.CLERK])
    await ask(client, user.email)
    token = await reset_link(container, user.email)
    async with container.db.unit_of_work() as session:
        await session.execute(
            update(PasswordReset).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    problem(await confirm(client, token, NEW_PASSWORD), 410, "password_reset_expired")
    problem(await confirm(client, "x" * 43, NEW_PASSWORD), 404, "password_reset_not_found")
    await login(client, user.email)


async def test_a_newer_link_closes_the_older_one(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    user = await create_user(container, org, roles=[Role.CLERK])
    await ask(client, user.email)
    first = await reset_link(container, user.email)
    await ask(client, user.email)
    for _ in range(100):
        links = [LINK.search(mail_text(m)) for m in mails_to(container, user.email)]
        tokens = {m.group(2) for m in links if m is not None}
        if len(tokens) == 2:
            break
        await asyncio.sleep(0.1)
    (second,) = tokens - {first}
    assert (await confirm(client, second, NEW_PASSWORD)).status_code == 204
    problem(await confirm(client, first, NEW_PASSWORD), 410, "password_reset_used")


async def test_requests_are_throttled_per_address_silently_and_per_source_openly(
    client: httpx.AsyncClient, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = await create_org(container)
    user = await create_user(container, org, roles=[Role.NURSE])
    policy = container.settings.security
    for _ in range(policy.password_resets_per_address_hour + 1):
        assert (await ask(client, user.email)).status_code == 202
    async with container.db.sessions() as session:
        named = (await session.scalars(select(PasswordReset.user_id))).all()
    assert named.count(user.id) == policy.password_resets_per_address_hour
    assert named.count(None) == 1

    monkeypatch.setattr(policy, "password_resets_per_source_hour", len(named) + 1)
    assert (await ask(client, f"{uuid.uuid4().hex}@example.org")).status_code == 202
    refused = problem(await ask(client, user.email), 429, "password_reset_throttled")
    assert "network address" in refused["detail"]


@pytest.fixture
async def portal(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("198.51.100.12", 4444))
    async with httpx.AsyncClient(
        transport=transport, base_url="https://testserver", follow_redirects=False
    ) as http:
        yield http


async def test_the_portal_round_trip_keeps_the_token_out_of_the_audit_log(
    portal: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    user = await create_user(container, org, roles=[Role.NURSE])
    login_page = await portal.get("/login")
    assert 'href="/forgot-password"' in login_page.text
    for address in ("someone.else@example.org", user.email):
        asked = await post_form(portal, "/forgot-password", "/forgot-password", {"email": address})
        assert asked.status_code == 303
        assert asked.headers["location"] == "/forgot-password?sent=1"
    token = await reset_link(container, user.email)
    action = f"/reset-password/{token}"
    mismatch = await post_form(
        portal, action, action, {"password": NEW_PASSWORD, "password_confirm": "other"}
    )
    assert mismatch.status_code == 400
    assert "do not match" in mismatch.text
    done = await post_form(
        portal, action, action, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
    )
    assert done.headers["location"] == "/login?notice=password-reset"
    used = await portal.get(action)
    assert used.status_code == 410
    assert "already used" in used.text
    async with container.db.sessions() as session:
        paths = (
            await session.scalars(
                select(AuditEvent.path).where(AuditEvent.path.like("/reset-password%"))
            )
        ).all()
    assert paths
    assert set(paths) == {"/reset-password/{token}"}
