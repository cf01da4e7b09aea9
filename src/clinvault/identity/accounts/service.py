"""Forgot password: a single-use, expiring link by email, with no account-existence oracle.

Every request, for a real account or not, does the same work in the same order:
count the client address's requests (429 beyond the limit, before anything is
looked up), count the address's requests, look the account up, write one
`password_resets` row and start one mail workflow after commit. Only the
workflow, in the background, learns that the row names no account and sends
nothing. The answer is the same 202 either way.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.bootstrap import Container
from clinvault.db import after_commit, release_connection
from clinvault.errors.accounts import (
    PasswordResetExpired,
    PasswordResetNotFound,
    PasswordResetThrottled,
    PasswordResetUsed,
)
from clinvault.identity.accounts.repository import AccountRepository
from clinvault.identity.accounts.tokens import RESET_TOKEN_MAX, reset_token
from clinvault.identity.accounts.workflows import start_reset_email
from clinvault.identity.admin_service import normalize_email
from clinvault.identity.guard import SignInGuard
from clinvault.identity.passwords import check_policy, hash_password
from clinvault.identity.repository import IdentityRepository
from clinvault.identity.throttle.service import SignInThrottle
from clinvault.identity.tokens import hash_token
from clinvault.identity.workflows import start_security_notice
from clinvault.ids import uuid7
from clinvault.models.accounts import PasswordReset
from clinvault.models.identity import Organization, User
from clinvault.timeutil import utcnow

log = structlog.get_logger(__name__)

KEY_PURPOSE = "password-reset"
WINDOW = timedelta(hours=1)
KEEP_ROWS = timedelta(days=1)
PURGE_EVERY_SECONDS = 3600.0
NOT_VALID = (
    "This password-reset link is not valid: check that you copied the whole link, or ask "
    'for a new one with "Forgot your password?" on the sign-in page.'
)
USED = (
    "This password-reset link was already used: sign in with your new password, or ask for "
    "a new link."
)

_last_purge = 0.0


class PasswordResetService:
    def __init__(self, session: AsyncSession, container: Container) -> None:
        self.session = session
        self.container = container
        self.policy = container.settings.security
        self.repository = AccountRepository(session)
        self.identity = IdentityRepository(session)

    def _key(self, scope: str, value: str) -> str:
        secret = self.container.keys.derive(KEY_PURPOSE)
        return hmac.new(secret, f"{scope}:{value}".encode(), hashlib.sha256).hexdigest()

    async def request(self, email: str) -> None:
        """Send a reset link if an active account has this address; answer the same if not."""
        now = utcnow()
        context.describe_resource("password_reset")
        ctx = context.current()
        ip = ctx.client_ip if ctx is not None else None
        source_key = None if ip is None else self._key("source", ip)
        if source_key is not None:
            sent = await self.repository.resets_since(
                address_key=None, source_key=source_key, since=now - WINDOW
            )
            if sent >= self.policy.password_resets_per_source_hour:
                context.note_detail("reset_throttled")
                raise PasswordResetThrottled(
                    "Too many password-reset requests came from your network address: wait "
                    "an hour, then try again.",
                    headers={"Retry-After": str(int(WINDOW.total_seconds()))},
                )
        address = normalize_email(email)[:320]
        address_key = self._key("address", address)
        recent = await self.repository.resets_since(
            address_key=address_key, source_key=None, since=now - WINDOW
        )
        user: User | None = None
        if recent < self.policy.password_resets_per_address_hour:
            user = self._resettable(await self.identity.user_by_email_global(address))
        else:
            context.note_detail("reset_address_limit")
        reset = PasswordReset(
            id=uuid7(),
            created_at=now,
            user_id=None if user is None else user.id,
            address_key=address_key,
            source_key=source_key,
            token_nonce=secrets.token_urlsafe(24),
            token_key_version=self.container.keys.current_version,
            expires_at=now + timedelta(minutes=self.policy.password_reset_minutes),
        )
        reset.token_hash = hash_token(
            reset_token(self.container.keys, reset.id, reset.token_nonce, reset.token_key_version)
        )
        await self.repository.add(reset)
        if user is not None:
            context.note_actor(user.id, user.organization_id)
            context.describe_resource("user", user.id)
        context.note_detail("reset_requested" if user is not None else "reset_no_account")
        reset_id = reset.id
        after_commit(self.session, lambda: start_reset_email(reset_id))
        await self._purge_now_and_then(now)

    @staticmethod
    def _resettable(found: tuple[User, Organization] | None) -> User | None:
        """An active password account of an active organization (not an OIDC-only one)."""
        if found is None:
            return None
        user, organization = found
        if not (user.is_active and organization.is_active and user.password_hash):
            return None
        return user

    async def open(self, token: str) -> tuple[PasswordReset, User, Organization]:
        """The live reset a link names, for the person holding it; refuses a spent link."""
        context.describe_resource("password_reset")
        found = None
        if 0 < len(token) <= RESET_TOKEN_MAX:
            found = await self.repository.reset_by_token_hash_global(hash_token(token))
        if found is None:
            raise PasswordResetNotFound(NOT_VALID)
        reset, user, organization = found
        context.note_actor(user.id, organization.id)
        context.describe_resource("user", user.id)
        if reset.used_at is not None:
            raise PasswordResetUsed(USED)
        if reset.expires_at <= utcnow():
            raise PasswordResetExpired(
                f"This password-reset link expired after {self.policy.password_reset_minutes} "
                'minutes: ask for a new one with "Forgot your password?" on the sign-in page.'
            )
        return reset, user, organization

    async def confirm(self, token: str, new_password: str) -> str:
        """Set the new password, spend the link, end every session; returns the address."""
        reset, user, organization = await self.open(token)
        SignInGuard(self.session, self.container).refuse_if_disabled(user, organization)
        check_policy(new_password, min_length=self.policy.password_min_length)
        await release_connection(self.session)
        password_hash = await hash_password(new_password)
        now = utcnow()
        if not await self.repository.claim_reset(reset.id, now=now):
            raise PasswordResetUsed(USED)
        await self.repository.set_password(user.id, password_hash, must_change=False, now=now)
        await self.repository.close_user_resets(user.id, now=now)
        await self.identity.revoke_user_sessions(user.id, now=now)
        # The owner of the address proved it: the failed sign-ins on it are forgotten.
        await SignInThrottle(self.container).forget_identifier(self.session, user.email)
        context.note_detail("password_reset")
        container, user_id = self.container, user.id
        after_commit(
            self.session,
            lambda: start_security_notice(container, user_id, "password_changed", now),
        )
        log.info("identity.password.reset", user_id=str(user.id))
        return user.email

    async def _purge_now_and_then(self, now: datetime) -> None:
        global _last_purge
        if time.monotonic() - _last_purge < PURGE_EVERY_SECONDS:
            return
        _last_purge = time.monotonic()
        await self.repository.purge_resets(before=now - KEEP_ROWS)
