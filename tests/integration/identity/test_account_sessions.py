"""Portal sessions end after the idle timeout; cookies outlive the browser only on request;
a code just used to confirm two-factor enrolment signs in once."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pyotp
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from tests.factories import (
    DEFAULT_PASSWORD,
    auth_headers,
    create_org,
    create_user,
    login,
    problem,
)
from tests.integration.web.portal_helpers import (
    ACCESS,
    REFRESH,
    form_token,
    hidden,
    set_cookies,
)

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role
from clinvault.models.accounts import PortalSession
from clinvault.models.identity import RefreshToken, User
from clinvault.timeutil import utcnow


@pytest.fixture
async def portal(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("198.51.100.10", 4444))
    async with httpx.AsyncClient(
        transport=transport, base_url="https://testserver", follow_redirects=False
    ) as http:
        yield http


async def portal_sign_in(
    portal: httpx.AsyncClient, email: str, *, remember: bool = False, next_path: str = "/"
) -> httpx.Response:
    page = await portal.get("/login", params={"next": next_path})
    fields = {
        "email": email,
        "password": DEFAULT_PASSWORD,
        "next": hidden(page.text, "next"),
        "csrf_token": form_token(page.text, "/login"),
    }
    if remember:
        fields["remember"] = "yes"
    response = await portal.post("/login", data=fields)
    assert response.status_code == 303, response.text
    return response


async def last_active(container: Container, user: User) -> PortalSession:
    async with container.db.sessions() as session:
        row = await session.scalar(select(PortalSession).where(PortalSession.user_id == user.id))
    assert row is not None
    return row


async def age_session(container: Container, user: User, seconds: float) -> None:
    """Make the session look idle for `seconds` (no sleeping)."""
    async with container.db.unit_of_work() as session:
        await session.execute(
            update(PortalSession)
            .where(PortalSession.user_id == user.id)
            .values(last_active_at=utcnow() - timedelta(seconds=seconds))
        )


async def test_an_idle_session_ends_and_sign_in_returns_to_the_page(
    portal: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    user = await create_user(container, org, roles=[Role.CLERK])
    signed = await portal_sign_in(portal, user.email)
    cookies = set_cookies(signed)
    for name in (ACCESS, REFRESH):
        morsel = cookies[name][name]
        assert not morsel["max-age"], f"{name} outlives the browser"
        assert not morsel["expires"], f"{name} outlives the browser"
    assert (await portal.get("/patients")).status_code == 200

    idle = container.settings.security.portal_idle_timeout_seconds
    assert idle == 30 * 60
    await age_session(container, user, idle - 120)
    assert (await portal.get("/patients")).status_code == 200
    touched = await last_active(container, user)
    assert utcnow() - touched.last_active_at < timedelta(seconds=60)

    await age_session(container, user, idle + 1)
    ended = await portal.get("/patients?page=2")
    assert ended.status_code == 303
    assert ended.headers["location"] == "/login?next=%2Fpatients%3Fpage%3D2&notice=idle"
    async with container.db.sessions() as session:
        revoked = (
            await session.scalars(
                select(RefreshToken.revoked_at).where(RefreshToken.user_id == user.id)
            )
        ).all()
    assert revoked
    assert all(stamp is not None for stamp in revoked)
    assert (await portal.get("/patients")).status_code == 303

    page = await portal.get(ended.headers["location"])
    assert "You were signed out after 30 minutes without activity" in page.text
    again = await portal_sign_in(portal, user.email, next_path="/patients?page=2")
    assert again.headers["location"] == "/patients?page=2"


async def test_an_idle_session_cannot_be_refreshed_elsewhere(
    portal: httpx.AsyncClient, client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    user = await create_user(container, org, roles=[Role.NURSE])
    signed = await portal_sign_in(portal, user.email)
    refresh = set_cookies(signed)[REFRESH][REFRESH].value
    await age_session(container, user, container.settings.security.portal_idle_timeout_seconds)
    answer = await client.post("/api/auth/refresh", json={"refresh_token": refresh})
    problem(answer, 401, "session_idle")


async def test_stay_signed_in_keeps_bounded_persistent_cookies_past_the_idle_time(
    portal: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    user = await create_user(container, org, roles=[Role.CLERK])
    signed = await portal_sign_in(portal, user.email, remember=True)
    refresh = set_cookies(signed)[REFRESH][REFRESH]
    days = container.settings.security.refresh_token_days
    assert days * 86400 - 60 <= int(refresh["max-age"]) <= days * 86400
    await age_session(container, user, container.settings.security.portal_idle_timeout_seconds * 4)
    assert (await portal.get("/patients")).status_code == 200
    row = await last_active(container, user)
    assert row.remembered
    assert row.ends_at is not None

    async with container.db.unit_of_work() as session:
        await session.execute(
            update(PortalSession)
            .where(PortalSession.user_id == user.id)
            .values(ends_at=utcnow() - timedelta(seconds=1))
        )
    assert (await portal.get("/patients")).status_code == 303


async def test_the_code_that_confirmed_enrolment_signs_in_once(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    user = await create_user(container, org, roles=[Role.DOCTOR])
    headers = auth_headers((await login(client, user.email))["access_token"])
    secret = (await client.post("/api/auth/mfa/enroll", headers=headers)).json()["secret"]
    totp = pyotp.TOTP(secret)
    now = time.time()
    current = totp.at(now)
    confirmed = await client.post("/api/auth/mfa/verify", json={"code": current}, headers=headers)
    assert confirmed.status_code == 200, confirmed.text

    body = {"username": user.email, "password": DEFAULT_PASSWORD}
    first = await client.post("/api/auth/login", json={**body, "totp_code": current})
    assert first.status_code == 200, first.text
    # Replay protection holds: the same code never signs in twice, an older one not at all.
    problem(
        await client.post("/api/auth/login", json={**body, "totp_code": current}),
        401,
        "mfa_invalid",
    )
    problem(
        await client.post("/api/auth/login", json={**body, "totp_code": totp.at(now - 30)}),
        401,
        "mfa_invalid",
    )
