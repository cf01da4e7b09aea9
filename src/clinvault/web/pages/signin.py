"""Sign in (password, then a second factor when enrolled) and sign out."""

from __future__ import annotations

from fastapi import Request, Response

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
}

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
) -> Response:
    return render(
        request,
        "login.html",
        {"email": email, "next": safe_next(next_path), "error": error, "notice": notice},
        status_code=status_code,
        headers=headers,
    )


def _mfa_page(
    request: Request, *, mfa_token: str, next_path: str, error: str | None, status_code: int
) -> Response:
    return render(
        request,
        "login_mfa.html",
        {
            "mfa_token": mfa_token,
            "next": safe_next(next_path),
            "error": error,
            "code_error": error,
        },
        status_code=status_code,
    )


def _signed_in(request: Request, tokens: TokenResponse, next_path: str) -> Response:
    start_session(request, tokens)
    csrf.renew(request)
    return see_other(safe_next(next_path))


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
    return _login_page(request, next_path=next, notice=NOTICES.get(notice))


@router.post("/login", name="portal.login.submit")
async def login_submit(
    request: Request, form: VerifiedForm, session: SessionDep, container: ContainerDep
) -> Response:
    email = form.get("email").strip()[:_MAX_EMAIL]
    password = form.get("password")
    next_path = form.get("next")
    if not email or not password:
        return _login_page(
            request,
            email=email,
            next_path=next_path,
            error="Enter your email address and your password.",
            status_code=400,
        )
    try:
        tokens = await AuthService(session, container).login(email, password[:_MAX_SECRET])
    except MfaChallenge as challenge:
        return _mfa_page(
            request, mfa_token=challenge.mfa_token, next_path=next_path, error=None, status_code=200
        )
    except (CredentialsInvalid, AccountLocked, PermissionDenied) as error:
        await discard_changes(session)
        return _refusal(request, error, email, next_path)
    return _signed_in(request, tokens, next_path)


@router.post("/login/mfa", name="portal.login.mfa")
async def login_mfa(
    request: Request, form: VerifiedForm, session: SessionDep, container: ContainerDep
) -> Response:
    mfa_token = form.get("mfa_token")[:_MAX_MFA_TOKEN]
    code = form.get("code").strip()
    next_path = form.get("next")
    if not mfa_token:
        return _login_page(request, next_path=next_path, error=CHALLENGE_EXPIRED, status_code=400)
    if not code or len(code) > _MAX_CODE:
        return _mfa_page(
            request,
            mfa_token=mfa_token,
            next_path=next_path,
            error="Enter the 6-digit code from your authenticator app.",
            status_code=400,
        )
    try:
        tokens = await AuthService(session, container).login_mfa(mfa_token, code)
    except MfaInvalid as error:
        await discard_changes(session)
        return _mfa_page(
            request, mfa_token=mfa_token, next_path=next_path, error=error.detail, status_code=401
        )
    except (AccountLocked, PermissionDenied) as error:
        await discard_changes(session)
        return _refusal(request, error, "", next_path)
    except (AuthenticationRequired, MfaStateConflict):
        await discard_changes(session)
        return _login_page(request, next_path=next_path, error=CHALLENGE_EXPIRED, status_code=401)
    return _signed_in(request, tokens, next_path)


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
