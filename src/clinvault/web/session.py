"""Who is signed in to the portal: session cookies to a principal.

The access cookie holds the access token; when it is missing or has expired
the refresh cookie is spent for a new pair (rotation, reuse detection and
session checks belong to the identity service) and both cookies are re-set.
Without a usable session a page answers with a redirect to the sign-in page.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.bootstrap import Container
from clinvault.deps import ContainerDep, SessionDep
from clinvault.errors import AuthenticationRequired, PermissionDenied, RefreshTokenReused
from clinvault.errors.accounts import SessionIdle
from clinvault.identity.accounts.sessions import (
    BROWSER_SESSION,
    CookieLife,
    PageFacts,
    PortalSessions,
)
from clinvault.identity.authn import authenticate_bearer
from clinvault.identity.principal import Principal
from clinvault.identity.schemas import TokenResponse
from clinvault.identity.service import AuthService
from clinvault.localtime import viewer_zone
from clinvault.web import cookies

_MAX_NEXT = 2048
# Where a successful sign-in must not send the browser back to.
_NEVER_NEXT = ("/login", "/logout")


class LoginRequired(Exception):
    """No usable session: answer with a redirect to the sign-in page."""

    def __init__(
        self, next_path: str | None, *, clear_cookies: bool = True, notice: str | None = None
    ) -> None:
        super().__init__("sign-in required")
        self.next_path = next_path
        self.clear_cookies = clear_cookies
        self.notice = notice


class PasswordChoiceRequired(Exception):
    """The account must choose its own password first: redirect to that page."""

    def __init__(self, next_path: str | None) -> None:
        super().__init__("password choice required")
        self.next_path = next_path


CHOOSE_PASSWORD_PATH = "/account/password"


def safe_next(value: str | None) -> str:
    """A same-site path to continue to after sign-in; "/" for anything else.

    Only absolute paths on this site are kept: no scheme, no host, no
    protocol-relative `//host`, no backslashes (browsers read them as
    slashes) and no control characters.
    """
    if not value or len(value) > _MAX_NEXT or not value.startswith("/"):
        return "/"
    if value.startswith("//") or "\\" in value:
        return "/"
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in value):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return "/"
    if parts.path.rstrip("/") in _NEVER_NEXT:
        return "/"
    return value


def here(request: Request) -> str:
    """The current path and query, as a `next` value."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def returning_path(request: Request) -> str | None:
    """Where to come back after signing in again: this page, or for a form the page it
    was sent from (its Referer, when on this site)."""
    if request.method == "GET":
        return here(request)
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc != request.url.netloc:
        return None
    return referer.path + (f"?{referer.query}" if referer.query else "")


def start_session(
    request: Request, tokens: TokenResponse, life: CookieLife = BROWSER_SESSION
) -> None:
    """Queue the session cookies for a fresh sign-in or a rotation."""
    cookies.set_session(
        request,
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        access_seconds=tokens.expires_in,
        remember_seconds=life.seconds if life.remembered else None,
    )


async def _from_access(
    container: Container, session: AsyncSession, token: str | None
) -> Principal | None:
    if token is None:
        return None
    try:
        return await authenticate_bearer(container, session, token, password_change_due_ok=True)
    except (AuthenticationRequired, PermissionDenied):
        return None


async def resolve(
    request: Request, session: SessionDep, container: ContainerDep, *, refresh: bool = True
) -> Principal | None:
    """The signed-in principal, refreshing the session when the access token is spent.

    Raises LoginRequired (keeping the cookies) when the refresh token was
    just used by a concurrent request, so that request's new cookies stand, and
    (with the "idle" notice) when the session was left idle past the timeout.
    """
    try:
        principal = await _resolve(request, session, container, refresh=refresh)
    except SessionIdle:
        raise LoginRequired(returning_path(request), notice="idle") from None
    if principal is not None:
        context.bind_principal(principal)
    return principal


async def _resolve(
    request: Request, session: AsyncSession, container: Container, *, refresh: bool
) -> Principal | None:
    rules = cookies.policy(request)
    sessions = PortalSessions(session, container)
    principal = await _from_access(container, session, rules.read(request, cookies.ACCESS))
    if principal is not None:
        facts = await sessions.page_facts(principal)
        if principal.session_id is not None:
            await sessions.check_row(facts.portal_session, principal.session_id, principal.user_id)
        request.state.page_facts = facts
        return principal
    if not refresh:
        return None
    refresh_token = rules.read(request, cookies.REFRESH)
    if refresh_token is None:
        return None
    family = await sessions.family_of_refresh(refresh_token)
    life = BROWSER_SESSION if family is None else await sessions.check(*family)
    try:
        tokens = await AuthService(session, container).refresh(refresh_token)
    except RefreshTokenReused:
        raise LoginRequired(here(request), clear_cookies=False) from None
    except (AuthenticationRequired, PermissionDenied):
        return None
    start_session(request, tokens, life)
    return await _from_access(container, session, tokens.access_token)


async def require_principal(
    request: Request, session: SessionDep, container: ContainerDep
) -> Principal:
    """Dependency of every signed-in page."""
    principal = await resolve(request, session, container)
    if principal is None:
        raise LoginRequired(here(request) if request.method == "GET" else None)
    if principal.password_change_due and request.url.path != CHOOSE_PASSWORD_PATH:
        raise PasswordChoiceRequired(here(request) if request.method == "GET" else None)
    # Read with the session check, or (after a refresh) now: the header's unread counter
    # (base.html), and the viewer's zone every time on the page is shown and read in.
    facts: PageFacts | None = getattr(request.state, "page_facts", None)
    if facts is None:
        facts = await PortalSessions(session, container).page_facts(principal)
    request.state.unread_notifications = facts.unread_notifications
    request.state.time_zone_names = (facts.own_zone, facts.organization_zone)
    request.state.time_zone = viewer_zone(facts.own_zone, facts.organization_zone)
    return principal


PortalPrincipal = Annotated[Principal, Depends(require_principal)]
