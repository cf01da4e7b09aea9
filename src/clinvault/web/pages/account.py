"""Home, profile, and two-factor enrolment of the signed-in user."""

from __future__ import annotations

import re

from fastapi import Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.bootstrap import Container
from clinvault.deps import ContainerDep, SessionDep
from clinvault.errors import (
    AccountLocked,
    AppError,
    CredentialsInvalid,
    MfaInvalid,
    MfaStateConflict,
)
from clinvault.identity import mfa
from clinvault.identity.mfa_service import MfaService
from clinvault.identity.principal import Principal
from clinvault.identity.schemas import MfaEnrollment
from clinvault.identity.service import AuthService
from clinvault.web.local_time import zone_of
from clinvault.web.pages.common import (
    VerifiedForm,
    discard_changes,
    lockout_message,
    portal_router,
    see_other,
)
from clinvault.web.pages.home import build as home_panels
from clinvault.web.render import render
from clinvault.web.session import PortalPrincipal

router = portal_router()

_SECRET = re.compile(r"^[A-Z2-7]{16,128}$")
_MAX_CODE = 64

PROFILE_NOTICES = {
    "mfa-disabled": "Two-factor authentication is off.",
}


def grouped(secret: str) -> str:
    """The key in groups of four, easier to type into an authenticator app."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


async def _profile_page(
    request: Request,
    session: AsyncSession,
    container: Container,
    principal: Principal,
    *,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    user = await AuthService(session, container).profile(principal)
    return render(
        request,
        "profile.html",
        {"user": user, "error": error, "notice": notice},
        principal=principal,
        status_code=status_code,
    )


def _enrol_page(
    request: Request,
    principal: Principal,
    enrollment: MfaEnrollment,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "mfa_enroll.html",
        {
            "qr_svg": enrollment.qr_svg,
            "secret": enrollment.secret,
            "secret_grouped": grouped(enrollment.secret),
            "error": error,
            "code_error": error,
        },
        principal=principal,
        status_code=status_code,
    )


@router.get("/", name="portal.home")
async def home(
    request: Request, principal: PortalPrincipal, session: SessionDep, container: ContainerDep
) -> Response:
    user = await AuthService(session, container).profile(principal)
    # The viewer's zone: their own, else the organization's, else UTC.
    panels = await home_panels(session, container, principal, zone_of(request).key)
    return render(request, "home.html", {"user": user, "panels": panels}, principal=principal)


@router.get("/profile", name="portal.profile")
async def profile(
    request: Request,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
    notice: str = "",
) -> Response:
    return await _profile_page(
        request, session, container, principal, notice=PROFILE_NOTICES.get(notice)
    )


@router.post("/profile/mfa/enroll", name="portal.mfa.enroll")
async def mfa_enroll(
    request: Request,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    try:
        enrollment = await MfaService(session, container).enroll(principal)
    except MfaStateConflict as error:
        await discard_changes(session)
        return await _profile_page(
            request, session, container, principal, error=error.detail, status_code=409
        )
    return _enrol_page(request, principal, enrollment)


@router.post("/profile/mfa/verify", name="portal.mfa.verify")
async def mfa_verify(
    request: Request,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    code = form.get("code").strip()[:_MAX_CODE]
    try:
        if not code:
            raise MfaInvalid("Enter the 6-digit code your authenticator app shows.")
        codes = await MfaService(session, container).verify(principal, code)
    except MfaInvalid as error:
        await discard_changes(session)
        secret = form.get("secret").replace(" ", "").upper()
        if not _SECRET.match(secret):
            return see_other("/profile")
        user = await AuthService(session, container).profile(principal)
        uri = mfa.provisioning_uri(secret, user.email)
        enrollment = MfaEnrollment(secret=secret, otpauth_uri=uri, qr_svg=mfa.qr_svg_data_uri(uri))
        return _enrol_page(request, principal, enrollment, error=error.detail, status_code=400)
    except MfaStateConflict as error:
        await discard_changes(session)
        return await _profile_page(
            request, session, container, principal, error=error.detail, status_code=409
        )
    return render(
        request,
        "mfa_recovery.html",
        {"recovery_codes": codes.recovery_codes},
        principal=principal,
    )


@router.post("/profile/mfa/disable", name="portal.mfa.disable")
async def mfa_disable(
    request: Request,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    password = form.get("password")
    code = form.get("code").strip()[:_MAX_CODE]
    if not password or not code:
        return await _profile_page(
            request,
            session,
            container,
            principal,
            error="Enter your password and a current authentication code.",
            status_code=400,
        )
    try:
        await MfaService(session, container).disable(principal, password, code)
    except (CredentialsInvalid, MfaInvalid, MfaStateConflict, AccountLocked) as error:
        await discard_changes(session)
        message = lockout_message(error) if isinstance(error, AccountLocked) else error.detail
        return await _profile_page(
            request, session, container, principal, error=message, status_code=_status(error)
        )
    return see_other("/profile?notice=mfa-disabled")


def _status(error: AppError) -> int:
    return 401 if isinstance(error, CredentialsInvalid | MfaInvalid) else error.status
