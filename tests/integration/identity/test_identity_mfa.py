"""Two-factor enrolment, two-step sign-in, replay refusal and recovery codes."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pyotp
from sqlalchemy import func, select
from tests.factories import (
    DEFAULT_PASSWORD,
    auth_headers,
    create_org,
    create_user,
    login,
    mail_text,
    problem,
    wait_for_mail,
)

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role
from clinvault.models.identity import RecoveryCode, User


def code(secret: str, steps_from_now: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_from_now)


async def enrol(client: httpx.AsyncClient, headers: dict[str, str]) -> tuple[str, list[str]]:
    started = await client.post("/api/auth/mfa/enroll", headers=headers)
    assert started.status_code == 200, started.text
    body = started.json()
    assert body["otpauth_uri"].startswith("otpauth://totp/")
    assert body["qr_svg"].startswith("data:image/svg+xml")
    secret: str = body["secret"]
    verified = await client.post(
        "/api/auth/mfa/verify", json={"code": code(secret, -1)}, headers=headers
    )
    assert verified.status_code == 200, verified.text
    recovery: list[str] = verified.json()["recovery_codes"]
    return secret, recovery


async def password_step(client: httpx.AsyncClient, user: User, **extra: Any) -> httpx.Response:
    body = {"username": user.email, "password": DEFAULT_PASSWORD, **extra}
    return await client.post("/api/auth/login", json=body)


async def second_step(client: httpx.AsyncClient, mfa_token: str, value: str) -> httpx.Response:
    return await client.post("/api/auth/login/mfa", json={"mfa_token": mfa_token, "code": value})


async def test_enrol_verify_then_sign_in_in_two_steps(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    user = await create_user(container, org, roles=[Role.DOCTOR])
    headers = auth_headers((await login(client, user.email))["access_token"])
    secret, recovery = await enrol(client, headers)
    assert len(recovery) == 10
    assert len(set(recovery)) == 10

    profile = await client.get("/api/auth/profile", headers=headers)
    assert profile.json()["mfa_enabled"] is True
    async with container.db.sessions() as session:
        stored = await session.scalar(select(User.mfa_secret).where(User.id == user.id))
        hashes = (await session.scalars(select(RecoveryCode.code_hash))).all()
    assert stored == secret
    assert not set(recovery) & set(hashes)

    challenge = problem(await password_step(client, user), 401, "mfa_required")
    mfa_token = challenge["mfa_token"]
    problem(await second_step(client, mfa_token, "000000"), 401, "mfa_invalid")
    current = code(secret)
    done = await second_step(client, mfa_token, current)
    assert done.status_code == 200, done.text
    assert done.json()["user"]["mfa_enabled"] is True

    replay = problem(await second_step(client, mfa_token, current), 401, "mfa_invalid")
    assert "already used" in replay["detail"]
    direct = await password_step(client, user, totp_code=code(secret, 1))
    assert direct.status_code == 200, direct.text

    notice = await wait_for_mail(container, user.email, "Two-step verification was turned on")
    assert f"{container.settings.public_url}/account" in mail_text(notice)


async def test_recovery_codes_work_once(client: httpx.AsyncClient, container: Container) -> None:
    org = await create_org(container)
    user = await create_user(container, org, roles=[Role.NURSE])
    headers = auth_headers((await login(client, user.email))["access_token"])
    _, recovery = await enrol(client, headers)
    mfa_token = problem(await password_step(client, user), 401, "mfa_required")["mfa_token"]
    spaced = recovery[0].upper().replace("-", " ")
    assert (await second_step(client, mfa_token, spaced)).status_code == 200
    problem(await second_step(client, mfa_token, recovery[0]), 401, "mfa_invalid")
    assert (await second_step(client, mfa_token, recovery[1])).status_code == 200
    async with container.db.sessions() as session:
        used = await session.scalar(
            select(func.count()).select_from(RecoveryCode).where(RecoveryCode.used_at.is_not(None))
        )
    assert used == 2


async def test_wrong_codes_count_toward_the_lockout(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    user = await create_user(container, org, roles=[Role.NURSE])
    headers = auth_headers((await login(client, user.email))["access_token"])
    secret, _ = await enrol(client, headers)
    for _ in range(container.settings.security.lockout_threshold):
        problem(await password_step(client, user, totp_code="123456"), 401, "mfa_invalid")
    problem(await password_step(client, user, totp_code=code(secret)), 429, "account_locked")


async def test_enrolment_states_and_disabling(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    user = await create_user(container, org, roles=[Role.CLERK])
    headers = auth_headers((await login(client, user.email))["access_token"])
    problem(
        await client.post("/api/auth/mfa/verify", json={"code": "123456"}, headers=headers),
        409,
        "mfa_state_conflict",
    )
    started = await client.post("/api/auth/mfa/enroll", headers=headers)
    secret = started.json()["secret"]
    problem(
        await client.post("/api/auth/mfa/verify", json={"code": "999999"}, headers=headers),
        401,
        "mfa_invalid",
    )
    secret, _ = await enrol(client, headers)
    problem(await client.post("/api/auth/mfa/enroll", headers=headers), 409, "mfa_state_conflict")

    wrong_password = {"password": "not my password", "code": code(secret)}
    problem(
        await client.post("/api/auth/mfa/disable", json=wrong_password, headers=headers),
        401,
        "credentials_invalid",
    )
    body = {"password": DEFAULT_PASSWORD, "code": code(secret)}
    disabled = await client.post("/api/auth/mfa/disable", json=body, headers=headers)
    assert disabled.status_code == 204, disabled.text
    assert (await password_step(client, user)).status_code == 200
    async with container.db.sessions() as session:
        remaining = await session.scalar(select(func.count()).select_from(RecoveryCode))
    assert remaining == 0


async def test_the_challenge_token_is_not_an_access_token(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    user = await create_user(container, org, roles=[Role.NURSE])
    headers = auth_headers((await login(client, user.email))["access_token"])
    await enrol(client, headers)
    mfa_token = problem(await password_step(client, user), 401, "mfa_required")["mfa_token"]
    profile = await client.get("/api/auth/profile", headers=auth_headers(mfa_token))
    problem(profile, 401, "token_invalid")
    problem(await second_step(client, "garbage", "123456"), 401, "token_invalid")
