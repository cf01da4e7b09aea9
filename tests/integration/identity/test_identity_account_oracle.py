"""No account-existence oracle: sign-in, lockout and registration answer alike for any address;
a source that fails across many accounts is slowed down and audited."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select, update
from tests.factories import (
    DEFAULT_PASSWORD,
    create_org,
    create_user,
    mail_text,
    mails_to,
    problem,
    unique,
    wait_for_mail,
)

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role
from clinvault.models.audit import AuditEvent
from clinvault.models.identity import SignInThrottle, User
from clinvault.timeutil import utcnow

WRONG = "not the password, clearly"
CLIENT_IP = "203.0.113.7"


async def attempt(client: httpx.AsyncClient, email: str, password: str = WRONG) -> httpx.Response:
    return await client.post("/api/auth/login", json={"username": email, "password": password})


def answer(response: httpx.Response) -> tuple[Any, ...]:
    """What a caller sees, with the clock-dependent numbers of a lock masked."""
    body = response.json()
    masked = re.sub(r"\d", "#", body.get("detail", ""))
    return (
        response.status_code,
        response.headers.get("content-type"),
        body.get("code"),
        body.get("title"),
        masked,
        sorted(body),
        "retry-after" in response.headers,
        response.headers.get("www-authenticate"),
    )


async def expire_account_locks(container: Container) -> None:
    async with container.db.unit_of_work() as session:
        await session.execute(
            update(SignInThrottle)
            .where(SignInThrottle.scope == "account")
            .values(locked_until=utcnow() - timedelta(seconds=1))
        )


async def test_known_and_unknown_addresses_are_indistinguishable_lock_included(
    client: httpx.AsyncClient, container: Container
) -> None:
    policy = container.settings.security
    org = await create_org(container)
    known = await create_user(container, org, roles=[Role.NURSE])
    unknown = f"{unique('nobody')}@example.org"
    known_answers, unknown_answers = [], []
    for _ in range(10):
        known_response = await attempt(client, known.email)
        unknown_response = await attempt(client, unknown)
        known_answers.append(answer(known_response))
        unknown_answers.append(answer(unknown_response))
        if known_response.status_code == 429:
            waits = [int(r.headers["retry-after"]) for r in (known_response, unknown_response)]
            assert abs(waits[0] - waits[1]) <= 1
            assert 0 < waits[0] <= policy.lockout_base_seconds
    assert known_answers == unknown_answers
    statuses = [entry[0] for entry in known_answers]
    threshold = policy.lockout_threshold
    assert statuses == [401] * threshold + [429] * (10 - threshold)
    assert {entry[2] for entry in known_answers} == {"credentials_invalid", "account_locked"}

    # A lock runs out the same way: the next failure locks both again, twice as long.
    await expire_account_locks(container)
    for email in (known.email, unknown):
        problem(await attempt(client, email), 401, "credentials_invalid")
    relocked = [await attempt(client, email) for email in (known.email, unknown)]
    waits = [int(problem(r, 429, "account_locked") and r.headers["retry-after"]) for r in relocked]
    assert all(
        policy.lockout_base_seconds < wait <= 2 * policy.lockout_base_seconds for wait in waits
    )
    assert abs(waits[0] - waits[1]) <= 1


async def test_a_lock_holds_even_for_the_right_password_and_ends_with_success(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    user = await create_user(container, org, roles=[Role.CLERK])
    for _ in range(container.settings.security.lockout_threshold):
        await attempt(client, user.email)
    problem(await attempt(client, user.email, DEFAULT_PASSWORD), 429, "account_locked")
    await expire_account_locks(container)
    assert (await attempt(client, user.email.upper(), DEFAULT_PASSWORD)).status_code == 200
    problem(await attempt(client, user.email), 401, "credentials_invalid")


async def test_the_throttle_table_holds_no_address_or_ip(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    known = await create_user(container, org, roles=[Role.NURSE])
    unknown = f"{unique('ghost')}@example.org"
    for email in (known.email, unknown):
        await attempt(client, email)
    async with container.db.sessions() as session:
        rows = (await session.scalars(select(SignInThrottle))).all()
    assert sorted(row.scope for row in rows) == ["account", "account", "source"]
    for row in rows:
        assert re.fullmatch(r"[0-9a-f]{64}", row.key)
        for plain in (known.email, unknown, CLIENT_IP):
            assert plain not in row.key


async def user_count(container: Container) -> int:
    async with container.db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(User)) or 0)


async def register(client: httpx.AsyncClient, slug: str, email: str) -> httpx.Response:
    return await client.post(
        "/api/auth/register",
        json={
            "organization": slug,
            "email": email,
            "password": DEFAULT_PASSWORD,
            "display_name": "Sam Registrant",
        },
    )


def shape(body: dict[str, Any]) -> dict[str, str]:
    return {name: type(value).__name__ for name, value in body.items()}


async def test_registering_a_taken_address_answers_as_accepted_and_tells_its_owner(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container, allow_patient_registration=True, name="Open Clinic")
    other = await create_org(container, name="Other Tenant Clinic")
    owner = await create_user(container, other, roles=[Role.NURSE], email=f"{unique('o')}@ex.org")
    same_tenant = await create_user(container, org, roles=[Role.PATIENT])

    fresh = await register(client, org.slug, f"{unique('new')}@example.org")
    assert fresh.status_code == 201, fresh.text
    before = await user_count(container)
    for email in (owner.email.upper(), same_tenant.email):
        taken = await register(client, org.slug, email)
        assert taken.status_code == fresh.status_code
        assert taken.headers["content-type"] == fresh.headers["content-type"]
        body = taken.json()
        assert shape(body) == shape(fresh.json())
        assert body["email"] == email.lower()
        assert (body["organization_id"], body["roles"]) == (str(org.id), ["patient"])
        assert body["id"] not in {str(owner.id), str(same_tenant.id)}
    assert await user_count(container) == before

    notice = await wait_for_mail(container, owner.email, "tried to register")
    text = mail_text(notice)
    assert "already has an account" in text
    for secret in ("Open Clinic", "Other Tenant Clinic", "Sam Registrant", DEFAULT_PASSWORD):
        assert secret not in text
        assert secret not in str(notice["Subject"])
    await wait_for_mail(container, same_tenant.email, "tried to register")

    # Repeated attempts do not flood the owner: one notice an hour.
    await register(client, org.slug, owner.email)
    await asyncio.sleep(1.0)
    assert len(mails_to(container, owner.email)) == 1

    async with container.db.sessions() as session:
        stored = await session.get(User, owner.id)
        events = (
            await session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.register"))
        ).all()
    assert stored is not None
    assert stored.organization_id == other.id
    assert stored.roles == ["nurse"]
    assert {e.status_code for e in events} == {201}
    assert sum(e.detail == "registration_address_taken" for e in events) == 3


async def test_a_source_failing_across_many_accounts_is_slowed_down_and_audited(
    client: httpx.AsyncClient, app: FastAPI, container: Container
) -> None:
    policy = container.settings.security
    org = await create_org(container)
    bystander = await create_user(container, org, roles=[Role.DOCTOR])
    tried = [f"{unique('spray')}@example.org" for _ in range(policy.source_failure_threshold)]
    for email in tried:
        # Each address fails once: no account lock, only the source adds up.
        problem(await attempt(client, email), 401, "credentials_invalid")

    slowed = await attempt(client, bystander.email, DEFAULT_PASSWORD)
    body = problem(slowed, 429, "sign_in_throttled")
    wait = int(slowed.headers["retry-after"])
    assert 0 < wait <= policy.source_lock_base_seconds
    assert "network address" in body["detail"]
    problem(await attempt(client, f"{unique('more')}@example.org"), 429, "sign_in_throttled")

    elsewhere = httpx.ASGITransport(app=app, client=("198.51.100.23", 4444))
    async with httpx.AsyncClient(transport=elsewhere, base_url="http://testserver") as other:
        assert (await attempt(other, bystander.email, DEFAULT_PASSWORD)).status_code == 200

    async with container.db.sessions() as session:
        [tripped] = (
            await session.scalars(
                select(AuditEvent).where(AuditEvent.action == "auth.source.throttled")
            )
        ).all()
        refused = (
            await session.scalars(select(AuditEvent).where(AuditEvent.detail == "source_throttled"))
        ).all()
        everything = (await session.scalars(select(AuditEvent))).all()
    assert tripped.client_ip == CLIENT_IP
    assert (tripped.outcome, tripped.status_code, tripped.actor_id) == ("denied", 429, None)
    assert f"{policy.source_failure_threshold} failed sign-ins" in (tripped.detail or "")
    assert len(refused) == 2
    assert all(e.actor_id is None and e.client_ip == CLIENT_IP for e in refused)
    for event in everything:
        for email in (*tried, bystander.email):
            assert email not in f"{event.detail} {event.resource_id} {event.path}"
