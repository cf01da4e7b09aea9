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
from clinvault.identity.authn import authenticate_bearer
from clinvault.identity.principal import Principal
from clinvault.identity.schemas import TokenResponse
from clinvault.identity.service import AuthService
from clinvault.notifications.service import NotificationService
from clinvault.web import cookies

_MAX_NEXT = 2048
# Where a successful sign-in must not send the browser back to.
_NEVER_NEXT = ("/login", "/logout")


class LoginRequired(Exception):
    """No usable session: answer with a redirect to the sign-in page."""

    def __init__(self, next_path: str | None, *, clear_cookies: bool = True) -> None:
        super().__init__("sign-in required")
        self.next_path = next_path
        self.clear_cookies = clear_cookies


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


def start_session(request: Request, tokens: TokenResponse) -> None:
    """Queue the session cookies for a fresh sign-in or a rotation."""
    cookies.set_session(
        request,
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        access_seconds=tokens.expires_in,
    )


async def _from_access(
    container: Container, session: AsyncSession, token: str | None
) -> Principal | None:
    if token is None:
        return None
    try:
        return await authenticate_bearer(container, session, token)
    except (AuthenticationRequired, PermissionDenied):
        return None


async def resolve(
    request: Request, session: SessionDep, container: ContainerDep, *, refresh: bool = True
) -> Principal | None:
    """The signed-in principal, refreshing the session when the access token is spent.

    Raises LoginRequired (keeping the cookies) when the refresh token was
    just used by a concurrent request, so that request's new cookies stand.
    """
    rules = cookies.policy(request)
    principal = await _from_access(container, session, rules.read(request, cookies.ACCESS))
    if principal is None and refresh:
        refresh_token = rules.read(request, cookies.REFRESH)
        if refresh_token is None:
            return None
        try:
            tokens = await AuthService(session, container).refresh(refresh_token)
        except RefreshTokenReused:
            raise LoginRequired(here(request), clear_cookies=False) from None
        except (AuthenticationRequired, PermissionDenied):
            return None
        start_session(request, tokens)
        principal = await _from_access(container, session, tokens.access_token)
    if principal is not None:
        context.bind_principal(principal)
    return principal


async def require_principal(
    request: Request, session: SessionDep, container: ContainerDep
) -> Principal:
    """Dependency of every signed-in page."""
    principal = await resolve(request, session, container)
    if principal is None:
        raise LoginRequired(here(request) if request.method == "GET" else None)
    # The header's unread counter (base.html), read once per signed-in page.
    request.state.unread_notifications = await NotificationService(session).unread_count(principal)
    return principal


PortalPrincipal = Annotated[Principal, Depends(require_principal)]
