"""Sign in (password, then a second factor when enrolled) and sign out."""

from __future__ import annotations

from fastapi import Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.bootstrap import Container
from clinvault.deps import ContainerDep, SessionDep
from clinvault.errors import (
    AccountLocked,
    AppError,
    AuthenticationRequired,
    CredentialsInvalid,
    MfaChallenge,
    MfaInvalid,
    MfaStateConflict,
    PermissionDenied,
)
from clinvault.identity.accounts.sessions import PortalSessions, idle_text
from clinvault.identity.schemas import TokenResponse
from clinvault.identity.service import AuthService
from clinvault.web import cookies, csrf
from clinvault.web.pages.common import (
    VerifiedForm,
    discard_changes,
    lockout_message,
    portal_router,
    see_other,
)
from clinvault.web.render import render
from clinvault.web.session import LoginRequired, resolve, safe_next, start_session

router = portal_router()

_MAX_EMAIL = 320
_MAX_SECRET = 1024
_MAX_CODE = 64
_MAX_MFA_TOKEN = 4096

NOTICES = {
    "signed-out": "You have signed out.",
    "account-created": "Your account is ready: sign in with your email and password.",
    "session-ended": "Your session has ended: sign in again.",
    "password-reset": "Your password was changed: sign in with your new password.",
}
IDLE_NOTICE = (
    "You were signed out after {idle} without activity. Sign in again to continue where you were."
)

CHALLENGE_EXPIRED = "Your sign-in took too long and has expired: sign in again."


def _login_page(
    request: Request,
    *,
    email: str = "",
    next_path: str = "/",
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    remember: bool = False,
) -> Response:
    return render(
        request,
        "login.html",
        {
            "email": email,
            "next": safe_next(next_path),
            "error": error,
            "notice": notice,
            "remember": remember,
        },
        status_code=status_code,
        headers=headers,
    )


def _mfa_page(
    request: Request,
    *,
    mfa_token: str,
    next_path: str,
    error: str | None,
    status_code: int,
    remember: bool = False,
) -> Response:
    return render(
        request,
        "login_mfa.html",
        {
            "mfa_token": mfa_token,
            "remember": remember,
            "next": safe_next(next_path),
            "error": error,
            "code_error": error,
        },
        status_code=status_code,
    )


async def _signed_in(
    request: Request,
    session: AsyncSession,
    container: Container,
    tokens: TokenResponse,
    next_path: str,
    *,
    remember: bool,
) -> Response:
    life = await PortalSessions(session, container).start(
        tokens.access_token, tokens.user.id, remember=remember
    )
    start_session(request, tokens, life)
    csrf.renew(request)
    return see_other(safe_next(next_path))


def _notice(request: Request, notice: str) -> str | None:
    if notice == "idle":
        seconds = request.app.state.container.settings.security.portal_idle_timeout_seconds
        return IDLE_NOTICE.format(idle=idle_text(seconds))
    return NOTICES.get(notice)


def _refusal(request: Request, error: AppError, email: str, next_path: str) -> Response:
    """The sign-in page again, explaining why the account cannot sign in now."""
    if isinstance(error, AccountLocked):
        retry = error.headers.get("Retry-After")
        return _login_page(
            request,
            email=email,
            next_path=next_path,
            error=lockout_message(error),
            status_code=429,
            headers={"Retry-After": retry} if retry else None,
        )
    return _login_page(
        request, email=email, next_path=next_path, error=error.detail, status_code=error.status
    )


@router.get("/login", name="portal.login")
async def login_page(request: Request, next: str = "", notice: str = "") -> Response:
    return _login_page(request, next_path=next, notice=_notice(request, notice))


@router.post("/login", name="portal.login.submit")
async def login_submit(
    request: Request, form: VerifiedForm, session: SessionDep, container: ContainerDep
) -> Response:
    email = form.get("email").strip()[:_MAX_EMAIL]
    password = form.get("password")
    next_path = form.get("next")
    remember = form.get("remember") == "yes"
    if not email or not password:
        return _login_page(
            request,
            email=email,
            next_path=next_path,
            error="Enter your email address and your password.",
            status_code=400,
            remember=remember,
        )
    try:
        tokens = await AuthService(session, container).login(email, password[:_MAX_SECRET])
    except MfaChallenge as challenge:
        return _mfa_page(
            request,
            mfa_token=challenge.mfa_token,
            next_path=next_path,
            error=None,
            status_code=200,
            remember=remember,
        )
    except (CredentialsInvalid, AccountLocked, PermissionDenied) as error:
        await discard_changes(session)
        return _refusal(request, error, email, next_path)
    return await _signed_in(request, session, container, tokens, next_path, remember=remember)


@router.post("/login/mfa", name="portal.login.mfa")
async def login_mfa(
    request: Request, form: VerifiedForm, session: SessionDep, container: ContainerDep
) -> Response:
    mfa_token = form.get("mfa_token")[:_MAX_MFA_TOKEN]
    code = form.get("code").strip()
    next_path = form.get("next")
    remember = form.get("remember") == "yes"
    if not mfa_token:
        return _login_page(request, next_path=next_path, error=CHALLENGE_EXPIRED, status_code=400)
    if not code or len(code) > _MAX_CODE:
        return _mfa_page(
            request,
            mfa_token=mfa_token,
            next_path=next_path,
            error="Enter the 6-digit code from your authenticator app.",
            status_code=400,
            remember=remember,
        )
    try:
        tokens = await AuthService(session, container).login_mfa(mfa_token, code)
    except MfaInvalid as error:
        await discard_changes(session)
        return _mfa_page(
            request,
            mfa_token=mfa_token,
            next_path=next_path,
            error=error.detail,
            status_code=401,
            remember=remember,
        )
    except (AccountLocked, PermissionDenied) as error:
        await discard_changes(session)
        return _refusal(request, error, "", next_path)
    except (AuthenticationRequired, MfaStateConflict):
        await discard_changes(session)
        return _login_page(request, next_path=next_path, error=CHALLENGE_EXPIRED, status_code=401)
    return await _signed_in(request, session, container, tokens, next_path, remember=remember)


@router.post("/logout", name="portal.logout")
async def logout(
    request: Request, form: VerifiedForm, session: SessionDep, container: ContainerDep
) -> Response:
    """End the session family server-side, then forget the cookies."""
    rules = cookies.policy(request)
    refresh_token = rules.read(request, cookies.REFRESH)
    try:
        principal = await resolve(request, session, container)
    except LoginRequired:
        principal = None
    if principal is not None:
        await AuthService(session, container).logout(principal, refresh_token)
    cookies.discard_queued(request)
    cookies.clear_session(request)
    csrf.renew(request)
    return see_other("/login?notice=signed-out")
