"""Sign-in, sessions and self-registration.

A reused refresh token ends its whole family; that revocation is committed on
its own (see guard.py), since the request's transaction rolls back with the
error it answers.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import NoReturn

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.bootstrap import Container
from clinvault.db import after_commit, release_connection
from clinvault.errors import (
    CredentialsInvalid,
    MfaChallenge,
    RefreshTokenReused,
    RegistrationClosed,
    RoleNotAllowed,
    TokenExpired,
    TokenInvalid,
)
from clinvault.identity import policies
from clinvault.identity.accounts.sessions import PortalSessions
from clinvault.identity.admin_service import create_user, normalize_email, user_read
from clinvault.identity.guard import CREDENTIALS_DETAIL, SignInGuard
from clinvault.identity.passwords import (
    check_policy,
    dummy_verify,
    hash_password,
    verify_password,
)
from clinvault.identity.policies import require
from clinvault.identity.principal import Principal, Role
from clinvault.identity.repository import IdentityRepository
from clinvault.identity.roles import role_fits_organization
from clinvault.identity.schemas import TokenResponse, UserRead
from clinvault.identity.tokens import TokenIssuer, hash_token, new_refresh_token
from clinvault.identity.workflows import start_security_notice
from clinvault.ids import uuid7
from clinvault.models.identity import Organization, RefreshToken, User
from clinvault.timeutil import utcnow

log = structlog.get_logger(__name__)

SESSION_ENDED_DETAIL = "This session has ended: sign in again."
REGISTRATION_TIMING_PASSWORD = "clinvault registration timing placeholder"


class AuthService:
    def __init__(self, session: AsyncSession, container: Container) -> None:
        self.session = session
        self.container = container
        self.policy = container.settings.security
        self.repository = IdentityRepository(session)
        self.tokens = TokenIssuer(container.keys, self.policy)
        self.guard = SignInGuard(session, container)

    async def login(self, email: str, password: str, totp_code: str | None = None) -> TokenResponse:
        """Password sign-in; raises MfaChallenge (with its mfa_token) when a code is due."""
        now = utcnow()
        address = normalize_email(email)
        attempt = self.guard.attempt(address)
        # A throttled source learns nothing, not even which account it named.
        await self.guard.refuse_source(attempt, now)
        found = await self.repository.user_by_email_global(address)
        if found is not None:
            self._note(found[0])
        # An unknown address is locked, verified and counted exactly like a known one.
        await self.guard.refuse_if_locked(attempt, now)
        # The hash queues behind others in a burst: it must not hold a pooled connection.
        await release_connection(self.session)
        if found is None:
            await dummy_verify(password)
            await self.guard.record_failure(attempt, now, "unknown_account")
            raise CredentialsInvalid(CREDENTIALS_DETAIL)
        user, organization = found
        checked = await verify_password(user.password_hash, password)
        if not checked.ok:
            await self.guard.record_failure(attempt, now, "password_mismatch")
            raise CredentialsInvalid(CREDENTIALS_DETAIL)
        self.guard.refuse_if_disabled(user, organization)
        if user.mfa_enabled and totp_code is None:
            if checked.new_hash is not None:
                new_hash = checked.new_hash
                await self.guard.apart(
                    lambda repo: repo.set_password_hash_global(user.id, new_hash)
                )
            context.note_detail("mfa_required")
            raise MfaChallenge(
                "Enter the 6-digit code from your authenticator app (or a recovery code) "
                "with POST /api/auth/login/mfa, sending this mfa_token.",
                mfa_token=self.tokens.mfa_token(user_id=user.id, organization_id=organization.id),
            )
        if user.mfa_enabled and totp_code is not None:
            await self.guard.check_second_factor(user, totp_code, now)
        if checked.new_hash is not None:
            user.password_hash = checked.new_hash
        return await self._start_session(user, organization, now)

    async def login_mfa(self, mfa_token: str, code: str) -> TokenResponse:
        """Second sign-in step: the challenge token from `login` and a TOTP or recovery code."""
        now = utcnow()
        claims = self.tokens.verify_mfa(mfa_token)
        found = await self.repository.user_by_id_global(claims.user_id)
        if found is None or found[1].id != claims.organization_id or not found[0].mfa_enabled:
            raise TokenInvalid("The sign-in challenge is no longer valid: sign in again.")
        user, organization = found
        self._note(user)
        await self.guard.refuse_if_throttled(self.guard.attempt(user.email), now)
        self.guard.refuse_if_disabled(user, organization)
        await self.guard.check_second_factor(user, code, now)
        return await self._start_session(user, organization, now)

    async def refresh(self, refresh_token: str) -> TokenResponse:
        """Rotate: the presented token is spent and the next one of its family is issued."""
        now = utcnow()
        row = await self.repository.refresh_token_by_hash_global(hash_token(refresh_token))
        if row is None:
            raise TokenInvalid("The refresh token is not valid: sign in again.")
        context.note_actor(row.user_id)
        context.describe_resource("session", row.family_id)
        if row.revoked_at is not None:
            raise TokenInvalid(SESSION_ENDED_DETAIL)
        if row.used_at is not None:
            await self._end_family_for_reuse(row, now)
        if row.expires_at <= now:
            raise TokenExpired("The session has expired: sign in again.")
        await PortalSessions(self.session, self.container).refuse_if_idle(row.family_id, now)
        found = await self.repository.user_by_id_global(row.user_id)
        if found is None or not found[0].is_active or not found[1].is_active:
            raise TokenInvalid("The account is no longer active: sign in again.")
        user, organization = found
        context.note_actor(user.id, organization.id)
        if not await self.repository.mark_refresh_token_used(row.id, now=now):
            context.note_detail("refresh_token_raced")
            raise RefreshTokenReused(
                "This refresh token was just used by another request: use the tokens that "
                "request received, or sign in again."
            )
        return await self._issue(user, organization, row.family_id, now, row.auth_method)

    async def logout(self, principal: Principal, refresh_token: str | None = None) -> None:
        """End the principal's session family, and the presented refresh token's family."""
        require(policies.can_use_own_account(principal, principal.user_id), "Not allowed.")
        now = utcnow()
        context.describe_resource("session", principal.session_id)
        if principal.session_id is not None:
            await self.repository.revoke_family(
                principal.session_id, user_id=principal.user_id, now=now
            )
        if refresh_token:
            row = await self.repository.refresh_token_by_hash_global(hash_token(refresh_token))
            if row is not None and row.user_id == principal.user_id:
                await self.repository.revoke_family(
                    row.family_id, user_id=principal.user_id, now=now
                )

    async def profile(self, principal: Principal) -> UserRead:
        user, organization_name = await self.guard.own_account(principal)
        return user_read(user, organization_name)

    async def register(
        self,
        *,
        organization_slug: str,
        email: str,
        password: str,
        display_name: str,
        role: str | None = None,
    ) -> UserRead:
        """Self-registration of a patient in an organization that allows it."""
        if not policies.can_self_register(role):
            context.note_detail("role_not_allowed")
            raise RoleNotAllowed(
                "Self-registration creates patient accounts only: leave out 'role', or ask "
                "the organization's administrator for an invitation."
            )
        organization = await self.repository.organization_by_slug_global(organization_slug)
        if (
            organization is None
            or not organization.is_active
            or not organization.allow_patient_registration
        ):
            context.note_detail("registration_closed")
            raise RegistrationClosed(
                "This organization does not accept self-registration: ask it for an invitation."
            )
        if not role_fits_organization(Role.PATIENT, organization.kind):
            context.note_detail("registration_closed")
            raise RegistrationClosed(
                "This organization does not accept self-registration: ask it for an invitation."
            )
        check_policy(password, min_length=self.policy.password_min_length)
        holder = await self.repository.user_by_email_global(normalize_email(email))
        if holder is not None:
            return await self._answer_as_registered(holder[0], organization, email, display_name)
        user = await create_user(
            self.session,
            self.container.settings,
            organization_id=organization.id,
            email=email,
            password=password,
            roles=[Role.PATIENT],
            display_name=display_name,
        )
        context.note_actor(user.id, organization.id)
        context.describe_resource("user", user.id)
        return user_read(user, organization.name)

    async def _answer_as_registered(
        self, holder: User, organization: Organization, email: str, display_name: str
    ) -> UserRead:
        """The answer of a registration, for an address that already has an account.

        The caller must not learn that the address is taken, in this tenant or any
        other: the answer has the shape of a new account and the owner of the
        address is told by email instead. The work mirrors a real registration
        (one password hash), so the time does not tell either.
        """
        await hash_password(REGISTRATION_TIMING_PASSWORD)
        now = utcnow()
        context.note_detail("registration_address_taken")
        context.describe_resource("user")
        container, holder_id = self.container, holder.id
        # One notice an hour at most, whatever the number of attempts.
        hour = now.replace(minute=0, second=0, microsecond=0)
        after_commit(
            self.session,
            lambda: start_security_notice(container, holder_id, "registration_attempt", hour),
        )
        log.info("identity.registration.address_taken", user_id=str(holder_id))
        return UserRead(
            id=uuid7(),
            email=normalize_email(email),
            display_name=display_name,
            organization_id=organization.id,
            organization_name=organization.name,
            roles=[Role.PATIENT.value],
            mfa_enabled=False,
            is_active=True,
            created_at=now,
        )

    def _note(self, user: User) -> None:
        context.note_actor(user.id, user.organization_id)
        context.describe_resource("user", user.id)

    async def _end_family_for_reuse(self, row: RefreshToken, now: datetime) -> NoReturn:
        family_id, user_id = row.family_id, row.user_id
        await self.guard.apart(lambda repo: repo.revoke_family(family_id, user_id=user_id, now=now))
        context.note_detail("refresh_token_reused")
        log.warning("identity.session.refresh_reused", user_id=str(user_id))
        raise RefreshTokenReused(
            "This refresh token was already used, so the session was ended to protect the "
            "account: sign in again."
        )

    async def _start_session(
        self, user: User, organization: Organization, now: datetime
    ) -> TokenResponse:
        await self.repository.record_login_success(user, now=now)
        await self.guard.forget_failures(self.guard.attempt(user.email))
        context.note_detail("signed_in")
        return await self._issue(user, organization, uuid7(), now, "password")

    async def _issue(
        self,
        user: User,
        organization: Organization,
        family_id: uuid.UUID,
        now: datetime,
        auth_method: str,
    ) -> TokenResponse:
        raw, digest = new_refresh_token()
        await self.repository.add(
            RefreshToken(
                family_id=family_id,
                user_id=user.id,
                token_hash=digest,
                issued_at=now,
                expires_at=now + timedelta(days=self.policy.refresh_token_days),
                auth_method=auth_method,
            )
        )
        access = self.tokens.access_token(
            user_id=user.id,
            organization_id=organization.id,
            roles=user.roles,
            session_id=family_id,
        )
        return TokenResponse(
            access_token=access,
            refresh_token=raw,
            expires_in=self.tokens.access_seconds,
            user=user_read(user, organization.name),
        )
