"""Enrolment and removal of time-based one-time passwords (TOTP) as a second factor."""

from __future__ import annotations

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.bootstrap import Container
from clinvault.db import after_commit, release_connection
from clinvault.errors import CredentialsInvalid, MfaInvalid, MfaStateConflict
from clinvault.identity import mfa
from clinvault.identity.guard import SignInGuard
from clinvault.identity.passwords import verify_password
from clinvault.identity.principal import Principal
from clinvault.identity.repository import IdentityRepository
from clinvault.identity.schemas import MfaEnrollment, RecoveryCodes
from clinvault.identity.workflows import start_security_notice
from clinvault.timeutil import utcnow

log = structlog.get_logger(__name__)


class MfaService:
    def __init__(self, session: AsyncSession, container: Container) -> None:
        self.session = session
        self.container = container
        self.repository = IdentityRepository(session)
        self.guard = SignInGuard(session, container)

    async def enroll(self, principal: Principal) -> MfaEnrollment:
        """Store a new pending TOTP secret; it takes effect after `verify`."""
        user, _ = await self.guard.own_account(principal)
        if user.mfa_enabled:
            raise MfaStateConflict(
                "Two-factor authentication is already on: disable it first to enrol a new device."
            )
        secret = mfa.new_secret()
        user.mfa_secret = secret
        user.mfa_last_step = None
        await self.session.flush()
        uri = mfa.provisioning_uri(secret, user.email)
        return MfaEnrollment(secret=secret, otpauth_uri=uri, qr_svg=mfa.qr_svg_data_uri(uri))

    async def verify(self, principal: Principal, code: str) -> RecoveryCodes:
        """Confirm the pending secret with a code; turn MFA on; return fresh recovery codes."""
        user, _ = await self.guard.own_account(principal)
        if user.mfa_enabled:
            raise MfaStateConflict("Two-factor authentication is already on.")
        if user.mfa_secret is None:
            raise MfaStateConflict("Start with POST /api/auth/mfa/enroll, then send a code.")
        now = utcnow()
        check = mfa.check_totp(user.mfa_secret, code, now=now, last_step=None)
        if check.step is None:
            raise MfaInvalid(
                "The code does not match: check the time on your device and enter the "
                "current 6-digit code."
            )
        codes = mfa.new_recovery_codes()
        user.mfa_enabled = True
        # Confirming enrolment proves the device, not who signs in: it must not spend the
        # sign-in's use of this code (ADR 0024). The step before it is recorded as the last
        # used, so sign-in accepts this code once, and nothing older.
        user.mfa_last_step = check.step - 1
        await self.repository.replace_recovery_codes(
            user.id, [mfa.recovery_code_hash(c) for c in codes]
        )
        container, user_id = self.container, user.id
        after_commit(
            self.session, lambda: start_security_notice(container, user_id, "mfa_enabled", now)
        )
        log.info("identity.mfa.enabled", user_id=str(user.id))
        return RecoveryCodes(recovery_codes=codes)

    async def disable(self, principal: Principal, password: str, code: str) -> None:
        """Turn MFA off; needs the password and a current code (or a recovery code)."""
        user, _ = await self.guard.own_account(principal)
        if not user.mfa_enabled:
            raise MfaStateConflict("Two-factor authentication is already off.")
        now = utcnow()
        attempt = self.guard.attempt(user.email)
        await self.guard.refuse_if_throttled(attempt, now)
        await release_connection(self.session)
        checked = await verify_password(user.password_hash, password)
        if not checked.ok:
            await self.guard.record_failure(attempt, now, "password_mismatch")
            raise CredentialsInvalid("The password is not correct: enter your current password.")
        await self.guard.check_second_factor(user, code, now)
        user.mfa_enabled = False
        user.mfa_secret = None
        user.mfa_last_step = None
        await self.repository.delete_recovery_codes(user.id)
        await self.session.flush()
        log.info("identity.mfa.disabled", user_id=str(user.id))
