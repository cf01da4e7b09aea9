"""Checks shared by every step that proves who someone is: lockout, state, second factor.

Lockout is per tried identifier and per client address, whether or not an
account exists (throttle/service.py). A failed attempt must be remembered
although the request fails: the failure count is written in a transaction of
its own, because the request's transaction rolls back with the error it
answers. Every check therefore reads before it writes, so that this separate
write never waits behind a lock the request itself holds (SQLite has one
writer at a time).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.audit.signals.service import SignInSignals
from clinvault.bootstrap import Container
from clinvault.errors import (
    AccountDisabled,
    MfaInvalid,
    MfaStateConflict,
    UserNotFound,
)
from clinvault.identity import mfa, policies
from clinvault.identity.policies import require
from clinvault.identity.principal import Principal
from clinvault.identity.repository import IdentityRepository
from clinvault.identity.throttle.repository import ThrottleRepository
from clinvault.identity.throttle.service import Attempt, SignInThrottle
from clinvault.models.identity import Organization, User

CREDENTIALS_DETAIL = "Wrong email or password: check both and try again."
MFA_INVALID_DETAIL = (
    "The code is not valid: enter the current 6-digit code from your authenticator app, "
    "or one of your recovery codes."
)
MFA_REPLAYED_DETAIL = "This code was already used: wait for the next code from your app."


class SignInGuard:
    def __init__(self, session: AsyncSession, container: Container) -> None:
        self.container = container
        self.policy = container.settings.security
        self.repository = IdentityRepository(session)
        self.throttles = ThrottleRepository(session)
        self.throttle = SignInThrottle(container)

    async def own_account(self, principal: Principal) -> tuple[User, str]:
        """The principal's own user row and organization name."""
        require(
            policies.can_use_own_account(principal, principal.user_id),
            "You can only manage your own account here.",
        )
        context.describe_resource("user", principal.user_id)
        found = await self.repository.user(principal.user_id, tenant=principal.organization_id)
        if found is None:
            raise UserNotFound("Your account no longer exists: sign in again.")
        return found

    def attempt(self, email: str) -> Attempt:
        """The throttle keys of a sign-in attempt with this normalized email."""
        return self.throttle.attempt(email)

    async def refuse_source(self, attempt: Attempt, now: datetime) -> None:
        await self.throttle.refuse_source(self.throttles, attempt, now)

    async def refuse_if_locked(self, attempt: Attempt, now: datetime) -> None:
        """429 while the identifier is locked: known and unknown addresses alike."""
        await self.throttle.refuse_account(self.throttles, attempt, now)

    async def refuse_if_throttled(self, attempt: Attempt, now: datetime) -> None:
        await self.refuse_source(attempt, now)
        await self.refuse_if_locked(attempt, now)

    async def forget_failures(self, attempt: Attempt) -> None:
        """After a successful sign-in, in the request's transaction."""
        await self.throttle.clear_account(self.throttles, attempt)

    def refuse_if_disabled(self, user: User, organization: Organization) -> None:
        if not organization.is_active:
            context.note_detail("organization_inactive")
            raise AccountDisabled(
                "Your organization's access is suspended: contact your organization."
            )
        if not user.is_active:
            context.note_detail("account_disabled")
            raise AccountDisabled(
                "This account is disabled: contact your organization's administrator."
            )

    async def check_second_factor(self, user: User, code: str, now: datetime) -> None:
        """Accept a current TOTP code or an unused recovery code; count a failure."""
        if user.mfa_secret is None:
            raise MfaStateConflict("Two-factor authentication is not set up for this account.")
        if mfa.is_totp_shaped(code):
            check = mfa.check_totp(user.mfa_secret, code, now=now, last_step=user.mfa_last_step)
            if check.step is not None:
                if not await self.repository.claim_totp_step(user.id, check.step):
                    raise MfaInvalid(MFA_REPLAYED_DETAIL)
                return
            reason = "mfa_replayed" if check.replayed else "mfa_invalid"
            detail = MFA_REPLAYED_DETAIL if check.replayed else MFA_INVALID_DETAIL
        else:
            code_hash = mfa.recovery_code_hash(code)
            if await self.repository.recovery_code_available(user.id, code_hash):
                if not await self.repository.use_recovery_code(user.id, code_hash, now=now):
                    raise MfaInvalid(MFA_INVALID_DETAIL)
                context.note_detail("recovery_code_used")
                return
            reason, detail = "recovery_code_invalid", MFA_INVALID_DETAIL
        await self.record_failure(self.attempt(user.email), now, reason)
        raise MfaInvalid(detail)

    async def record_failure(self, attempt: Attempt, now: datetime, reason: str) -> None:
        """Count a failed attempt (committed now) for the identifier and the source."""
        context.note_detail(reason)
        failures, locked = await self.throttle.record_failure(attempt, now)
        # A lockout or a burst of failures alerts the organization's administrators.
        ctx = context.current()
        if ctx is not None:
            await SignInSignals(self.container).failed_sign_in(
                organization_id=ctx.organization_hint,
                account_id=ctx.actor_hint,
                failures=failures,
                locked=locked is not None,
                now=now,
            )

    async def apart(self, write: Callable[[IdentityRepository], Awaitable[None]]) -> None:
        """Commit `write` on its own, independent of the request's transaction."""
        async with self.container.db.unit_of_work() as session:
            await write(IdentityRepository(session))
