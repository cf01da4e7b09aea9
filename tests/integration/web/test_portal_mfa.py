"""Two-factor authentication through the portal: enrol, sign in with a code, turn off, lockout."""

from __future__ import annotations

import re
import time

import httpx
import pyotp
from portal_helpers import ACCESS, form_token, hidden, post_form, set_cookies, sign_in
from sqlalchemy import select
from tests.factories import DEFAULT_PASSWORD, create_org, create_user

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role
from clinvault.models.identity import User

_SECRET = re.compile(r'<code class="secret" id="mfa-secret">([A-Z2-7 ]+)</code>')
_CODES = re.compile(r"<li><code>([a-z0-9-]+)</code></li>")


def next_step_code(secret: str) -> str:
    """A code of the next 30-second step: valid now, and never used before."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def wrong_code(secret: str) -> str:
    valid = {pyotp.TOTP(secret).at(time.time() + delta) for delta in (-30, 0, 30)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in valid)


async def stored_user(container: Container, user_id: object) -> User:
    async with container.db.sessions() as session:
        user = await session.scalar(select(User).where(User.id == user_id))
    assert user is not None
    return user


async def enrol(portal: httpx.AsyncClient) -> tuple[str, list[str]]:
    """Turn two-factor on from the profile page; returns the secret and recovery codes."""
    page = await post_form(portal, "/profile", "/profile/mfa/enroll", {})
    assert page.status_code == 200
    assert '<img class="qr" src="data:image/svg+xml' in page.text
    match = _SECRET.search(page.text)
    assert match
    secret = match.group(1).replace(" ", "")
    wrong = await portal.post(
        "/profile/mfa/verify",
        data={
            "code": wrong_code(secret),
            "secret": hidden(page.text, "secret"),
            "csrf_token": form_token(page.text, "/profile/mfa/verify"),
        },
    )
    assert wrong.status_code == 400
    assert "does not match" in wrong.text
    assert secret in wrong.text.replace(" ", "")
    done = await portal.post(
        "/profile/mfa/verify",
        data={
            "code": pyotp.TOTP(secret).now(),
            "secret": hidden(wrong.text, "secret"),
            "csrf_token": form_token(wrong.text, "/profile/mfa/verify"),
        },
    )
    assert done.status_code == 200, done.text
    assert "will not be shown again" in done.text
    codes = _CODES.findall(done.text)
    assert len(codes) == 10
    return secret, codes


async def test_enrol_then_sign_in_with_a_second_factor(
    portal: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    user = await create_user(container, org, roles=[Role.DOCTOR], display_name="Dr Two Step")
    await sign_in(portal, user.email)
    secret, codes = await enrol(portal)
    assert (await stored_user(container, user.id)).mfa_enabled
    await post_form(portal, "/", "/logout", {})

    step_one = await sign_in(portal, user.email)
    assert step_one.status_code == 200
    assert "Enter your two-factor code" in step_one.text
    assert ACCESS not in set_cookies(step_one)
    challenge = hidden(step_one.text, "mfa_token")
    wrong = await portal.post(
        "/login/mfa",
        data={
            "mfa_token": challenge,
            "code": wrong_code(secret),
            "next": "/",
            "csrf_token": form_token(step_one.text, "/login/mfa"),
        },
    )
    assert wrong.status_code == 401
    assert "The code is not valid" in wrong.text
    assert hidden(wrong.text, "mfa_token") == challenge
    assert ACCESS not in set_cookies(wrong)
    signed = await portal.post(
        "/login/mfa",
        data={
            "mfa_token": challenge,
            "code": codes[0],
            "next": "/profile",
            "csrf_token": form_token(wrong.text, "/login/mfa"),
        },
    )
    assert signed.status_code == 303
    assert signed.headers["location"] == "/profile"
    assert ACCESS in set_cookies(signed)
    home = await portal.get("/")
    assert "Welcome, Dr Two Step" in home.text

    refused = await post_form(
        portal, "/profile", "/profile/mfa/disable", {"password": "wrong password!!", "code": "1"}
    )
    assert refused.status_code == 401
    assert "password is not correct" in refused.text
    disabled = await post_form(
        portal,
        "/profile",
        "/profile/mfa/disable",
        {"password": DEFAULT_PASSWORD, "code": next_step_code(secret)},
    )
    assert disabled.status_code == 303
    assert disabled.headers["location"] == "/profile?notice=mfa-disabled"
    assert not (await stored_user(container, user.id)).mfa_enabled


async def test_a_forged_challenge_starts_over(
    portal: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    user = await create_user(container, org, roles=[Role.DOCTOR])
    await sign_in(portal, user.email)
    secret, _ = await enrol(portal)
    await post_form(portal, "/", "/logout", {})
    step_one = await sign_in(portal, user.email)
    forged = await portal.post(
        "/login/mfa",
        data={
            "mfa_token": hidden(step_one.text, "mfa_token")[:-4] + "AAAA",
            "code": next_step_code(secret),
            "csrf_token": form_token(step_one.text, "/login/mfa"),
        },
    )
    assert forged.status_code == 401
    assert "took too long" in forged.text
    assert '<form method="post" action="/login"' in forged.text
    assert ACCESS not in set_cookies(forged)


async def test_a_refused_form_changes_nothing(
    portal: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    user = await create_user(container, org, roles=[Role.NURSE])
    await sign_in(portal, user.email)
    profile = await portal.get("/profile")
    stolen = form_token(profile.text, "/profile/mfa/enroll")
    response = await portal.post("/profile/mfa/enroll", data={"csrf_token": stolen[:-2] + "xx"})
    assert response.status_code == 403
    stored = await stored_user(container, user.id)
    assert stored.mfa_secret is None
    assert not stored.mfa_enabled


async def test_repeated_failures_lock_the_account_with_a_retry_time(
    portal: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    user = await create_user(container, org, roles=[Role.CLERK])
    threshold = container.settings.security.lockout_threshold
    for _ in range(threshold):
        failed = await sign_in(portal, user.email, password="definitely wrong pw")
        assert failed.status_code == 401
    locked = await sign_in(portal, user.email)
    assert locked.status_code == 429
    assert "temporarily locked" in locked.text
    assert re.search(r"Try again in (about )?\d+ (second|minute)", locked.text)
    assert locked.headers["retry-after"].isdigit()
    assert f'value="{user.email}"' in locked.text
