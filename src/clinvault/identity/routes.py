"""HTTP routes of sign-in, sessions, self-registration and two-factor authentication."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from clinvault.api_contract import problem_responses
from clinvault.deps import ContainerDep, PrincipalDep, SessionDep
from clinvault.identity.accounts.routes import routers as account_routers
from clinvault.identity.admin_routes import organizations, users
from clinvault.identity.clients.routes import routers as client_routers
from clinvault.identity.invitation_routes import invitations
from clinvault.identity.mfa_service import MfaService
from clinvault.identity.profile_service import ProfileService
from clinvault.identity.schemas import (
    LoginRequest,
    LogoutRequest,
    MfaDisableRequest,
    MfaEnrollment,
    MfaLoginRequest,
    MfaVerifyRequest,
    PasswordChange,
    ProfileUpdate,
    RecoveryCodes,
    RefreshRequest,
    RegisterRequest,
    TokenResponse,
    UserRead,
)
from clinvault.identity.service import AuthService

auth = APIRouter(prefix="/api/auth", tags=["auth"])


@auth.post("/login", name="auth.login", responses=problem_responses(401, 403, 429))
async def login(body: LoginRequest, session: SessionDep, container: ContainerDep) -> TokenResponse:
    """Sign in with email and password (and `totp_code` when two-factor is on).

    Without a code for a two-factor account the answer is 401 `mfa_required`
    whose body holds an `mfa_token` for POST /api/auth/login/mfa.
    """
    return await AuthService(session, container).login(body.username, body.password, body.totp_code)


@auth.post("/login/mfa", name="auth.login_mfa", responses=problem_responses(401, 403, 429))
async def login_mfa(
    body: MfaLoginRequest, session: SessionDep, container: ContainerDep
) -> TokenResponse:
    return await AuthService(session, container).login_mfa(body.mfa_token, body.code)


@auth.post("/refresh", name="auth.refresh", responses=problem_responses(401, 403))
async def refresh(
    body: RefreshRequest, session: SessionDep, container: ContainerDep
) -> TokenResponse:
    """Exchange a refresh token for new tokens; each refresh token works once."""
    return await AuthService(session, container).refresh(body.refresh_token)


@auth.post(
    "/logout",
    name="auth.logout",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
)
async def logout(
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
    body: LogoutRequest | None = None,
) -> None:
    """End this session: its access and refresh tokens stop working at once."""
    await AuthService(session, container).logout(principal, body.refresh_token if body else None)


@auth.get("/profile", name="auth.profile")
async def profile(
    principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> UserRead:
    return await AuthService(session, container).profile(principal)


@auth.put("/profile", name="auth.profile.update")
async def update_profile(
    body: ProfileUpdate, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> UserRead:
    """Change your own name, phone or time zone (email and roles: an administrator)."""
    return await ProfileService(session, container).update(principal, body)


@auth.post(
    "/change-password",
    name="auth.password.change",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
)
async def change_password(
    body: PasswordChange, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> None:
    """Change your own password; every session of the account ends: sign in again."""
    await ProfileService(session, container).change_password(principal, body)


@auth.post(
    "/register",
    name="auth.register",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(403, 404, 409, 429),
)
async def register(body: RegisterRequest, session: SessionDep, container: ContainerDep) -> UserRead:
    """Create a patient account in an organization that accepts self-registration."""
    return await AuthService(session, container).register(
        organization_slug=body.organization or "",
        email=str(body.email),
        password=body.password,
        display_name=body.display_name or "",
        role=body.role,
    )


@auth.post("/mfa/enroll", name="auth.mfa.enroll", responses=problem_responses(409))
async def mfa_enroll(
    principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> MfaEnrollment:
    """Start two-factor enrolment: scan the QR code, then confirm with /mfa/verify."""
    return await MfaService(session, container).enroll(principal)


@auth.post("/mfa/verify", name="auth.mfa.verify", responses=problem_responses(409))
async def mfa_verify(
    body: MfaVerifyRequest, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> RecoveryCodes:
    """Turn two-factor on; the recovery codes in the answer are shown only this once."""
    return await MfaService(session, container).verify(principal, body.code)


@auth.post(
    "/mfa/disable",
    name="auth.mfa.disable",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(409),
    response_class=Response,
)
async def mfa_disable(
    body: MfaDisableRequest, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> None:
    await MfaService(session, container).disable(principal, body.password, body.code)


routers: list[APIRouter] = [
    auth,
    *account_routers,
    organizations,
    users,
    invitations,
    *client_routers,
]
