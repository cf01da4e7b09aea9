"""Signing a controlled-substance prescription (schedule II-V).

Electronic prescribing of controlled substances asks for two things at
signing time, both checked here against clinvault's own records:

1. the prescriber holds a DEA registration that a credentialing reviewer
   verified and that has not expired (`credential_documents`, category
   `dea_registration`, current version, status `verified`);
2. a fresh second factor: a current TOTP code of the prescriber's own
   account, not used before (the step is claimed, so a replay fails).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.bootstrap import Container
from clinvault.errors import MfaInvalid, MfaStateConflict
from clinvault.errors.prescriptions import (
    DeaRegistrationRequired,
    SecondFactorInvalid,
    SecondFactorRequired,
)
from clinvault.identity.guard import SignInGuard
from clinvault.identity.principal import Principal
from clinvault.models.prescriptions import Prescription
from clinvault.prescriptions.repository import PrescriptionRepository
from clinvault.prescriptions.rules import CONTROLLED, field_error
from clinvault.timeutil import utcnow


async def check_dea_registration(
    repository: PrescriptionRepository, principal: Principal, rx: Prescription
) -> None:
    today = utcnow().date()
    documents = await repository.dea_registrations(principal.user_id, tenant=rx.organization_id)
    verified = [d for d in documents if d.status == "verified"]
    if any(d.expires_on is None or d.expires_on >= today for d in verified):
        return
    if verified:
        expired_on = max(d.expires_on for d in verified if d.expires_on)
        detail = (
            f"Your DEA registration expired on {expired_on}: submit the renewed registration "
            "and have it verified before prescribing "
            f"schedule {rx.schedule} substances."
        )
    elif documents:
        detail = (
            "Your DEA registration is not verified yet: a credentialing reviewer must verify "
            f"it before you can sign schedule {rx.schedule} prescriptions."
        )
    else:
        detail = (
            f"Schedule {rx.schedule} prescriptions need a verified DEA registration: submit "
            "one with POST /api/credentials/submissions (category dea_registration)."
        )
    raise DeaRegistrationRequired(detail, errors=field_error("schedule", "dea_registration"))


async def check_second_factor(
    session: AsyncSession, container: Container, principal: Principal, code: str | None
) -> None:
    if code is None:
        raise SecondFactorRequired(
            "Signing a controlled-substance prescription needs a fresh second factor: send "
            "second_factor with the current 6-digit code of your authenticator app.",
            errors=field_error("second_factor", "required for schedule II-V"),
        )
    guard = SignInGuard(session, container)
    user, _ = await guard.own_account(principal)
    if not user.mfa_enabled:
        raise SecondFactorRequired(
            "Turn on two-factor authentication (POST /api/auth/mfa/enroll) before signing "
            "controlled-substance prescriptions.",
            errors=field_error("second_factor", "two-factor authentication is off"),
        )
    try:
        await guard.check_second_factor(user, code, utcnow())
    except (MfaInvalid, MfaStateConflict):
        raise SecondFactorInvalid(
            "The second-factor code is not valid or was already used: enter the current "
            "6-digit code from your authenticator app.",
            errors=field_error("second_factor", "invalid or reused"),
        ) from None


async def check_signing(
    session: AsyncSession,
    container: Container,
    principal: Principal,
    rx: Prescription,
    second_factor: str | None,
) -> bool:
    """Refuse a controlled-substance signature that lacks either proof; True if MFA was used."""
    if rx.schedule not in CONTROLLED:
        return False
    await check_dea_registration(PrescriptionRepository(session), principal, rx)
    await check_second_factor(session, container, principal, second_factor)
    return True
