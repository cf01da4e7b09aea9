"""Password sign-in: success, uniform failures, lockout with back-off, disabled accounts."""

from __future__ import annotations

from datetime import timedelta

import httpx
from argon2 import PasswordHasher
from sqlalchemy import select, update
from tests.factories import DEFAULT_PASSWORD, create_org, create_user, problem

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role
from clinvault.models.audit import AuditEvent
from clinvault.models.identity import SignInThrottle, User
from clinvault.timeutil import utcnow


async def attempt(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post("/api/auth/login", json={"username": email, "password": password})


async def stored(container: Container, user_id: object) -> User:
    async with container.db.sessions() as session:
        user = await session.scalar(select(User).where(User.id == user_id))
        assert user is not None
        return user


async def unlock_now(container: Container) -> None:
    """Act as if the current account locks had run out."""
    async with container.db.unit_of_work() as session:
        await session.execute(
            update(SignInThrottle)
            .where(SignInThrottle.scope == "account")
            .values(locked_until=utcnow() - timedelta(seconds=1))
        )


async def account_throttles(container: Container) -> list[SignInThrottle]:
    async with container.db.sessions() as session:
        query = select(SignInThrottle).where(SignInThrottle.scope == "account")
        return list((await session.scalars(query)).all())


async def test_login_returns_tokens_and_the_user(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    user = await create_user(container, org, roles=[Role.DOCTOR], email="Doc.Who@Example.org")
    response = await attempt(client, "  DOC.WHO@example.org ", DEFAULT_PASSWORD)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == container.settings.security.access_token_minutes * 60
    assert body["access_token"]
    assert body["refresh_token"]
    assert body["user"]["id"] == str(user.id)
    assert body["user"]["email"] == "doc.who@example.org"
    assert body["user"]["organization_name"] == org.name
    assert body["user"]["roles"] == ["doctor"]
    assert "password_hash" not in body["user"]
    profile = await client.get(
        "/api/auth/profile", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert profile.status_code == 200
    assert profile.json() == body["user"]
    assert (await stored(container, user.id)).last_login_at is not None


async def test_wrong_password_and_unknown_email_answer_the_same(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    user = await create_user(container, org, roles=[Role.NURSE])
    wrong = problem(
        await attempt(client, user.email, "not the password!"), 401, "credentials_invalid"
    )
    unknown_response = await attempt(client, "nobody@example.org", "not the password!")
    unknown = problem(unknown_response, 401, "credentials_invalid")
    assert wrong["detail"] == unknown["detail"]
    assert wrong["title"] == unknown["title"]
    assert unknown_response.headers["www-authenticate"].startswith("Bearer")


async def test_lockout_backs_off_and_resets_after_success(
    client: httpx.AsyncClient, container: Container
) -> None:
    policy = container.settings.security
    org = await create_org(container)
    user = await create_user(container, org, roles=[Role.CLERK])
    for _ in range(policy.lockout_threshold):
        problem(await attempt(client, user.email, "wrong password 123"), 401, "credentials_invalid")

    locked = await attempt(client, user.email, DEFAULT_PASSWORD)
    body = problem(locked, 429, "account_locked")
    first_wait = int(locked.headers["retry-after"])
    assert 0 < first_wait <= policy.lockout_base_seconds
    assert "Try again in" in body["detail"]

    await unlock_now(container)
    problem(await attempt(client, user.email, "wrong password 123"), 401, "credentials_invalid")
    locked_again = await attempt(client, user.email, DEFAULT_PASSWORD)
    problem(locked_again, 429, "account_locked")
    second_wait = int(locked_again.headers["retry-after"])
    assert policy.lockout_base_seconds < second_wait <= 2 * policy.lockout_base_seconds

    await unlock_now(container)
    assert (await attempt(client, user.email, DEFAULT_PASSWORD)).status_code == 200
    assert await account_throttles(container) == []
    problem(await attempt(client, user.email, "wrong password 123"), 401, "credentials_invalid")
    assert (await attempt(client, user.email, DEFAULT_PASSWORD)).status_code == 200


async def test_disabled_accounts_cannot_sign_in(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    user = await create_user(container, org, roles=[Role.NURSE])
    async with container.db.unit_of_work() as session:
        await session.execute(update(User).where(User.id == user.id).values(is_active=False))
    problem(await attempt(client, user.email, DEFAULT_PASSWORD), 403, "account_disabled")
    problem(await attempt(client, user.email, "wrong password 123"), 401, "credentials_invalid")


async def test_an_outdated_hash_is_upgraded_at_sign_in(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    user = await create_user(container, org, roles=[Role.NURSE])
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(DEFAULT_PASSWORD)
    async with container.db.unit_of_work() as session:
        await session.execute(update(User).where(User.id == user.id).values(password_hash=weak))
    assert (await attempt(client, user.email, DEFAULT_PASSWORD)).status_code == 200
    upgraded = (await stored(container, user.id)).password_hash
    assert upgraded is not None
    assert upgraded != weak
    assert "m=32768" in upgraded


async def test_sign_in_attempts_are_audited_with_the_account(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    user = await create_user(container, org, roles=[Role.NURSE])
    await attempt(client, user.email, "wrong password 123")
    await attempt(client, user.email, DEFAULT_PASSWORD)
    async with container.db.sessions() as session:
        events = (
            await session.scalars(
                select(AuditEvent).where(AuditEvent.action == "auth.login").order_by(AuditEvent.seq)
            )
        ).all()
    assert [(e.outcome, e.status_code) for e in events] == [("denied", 401), ("success", 200)]
    assert {e.actor_id for e in events} == {user.id}
    assert {e.organization_id for e in events} == {org.id}
    assert events[0].detail == "password_mismatch"
    assert events[0].resource_type == "user"
    assert events[0].resource_id == str(user.id)
