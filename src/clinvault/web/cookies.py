"""The portal's cookies: names, attributes, and changes queued during a request.

Cookies are `__Host-` prefixed when `security.cookie_secure` is on (Secure,
Path=/, no Domain), so a sibling host cannot plant or overwrite them. All are
HttpOnly: no script ever needs to read them.

Handlers and dependencies do not touch the response directly; they queue
changes on the request (`queue_set`, `queue_delete`), and the portal route
class applies them to the response the handler returns. When a handler fails
its transaction rolls back, and queued changes are dropped with it: the
browser never receives a token the database does not hold.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from starlette.requests import Request
from starlette.responses import Response

from clinvault.config import Settings

SameSite = Literal["lax", "strict"]

ACCESS = "clinvault_access"
REFRESH = "clinvault_refresh"
CSRF = "clinvault_csrf"

_QUEUE = "portal_cookie_changes"

CookieChange = Callable[[Response], None]


@dataclass(frozen=True, slots=True)
class CookiePolicy:
    secure: bool

    @classmethod
    def of(cls, settings: Settings) -> CookiePolicy:
        return cls(secure=settings.security.cookie_secure)

    def name(self, base: str) -> str:
        return f"__Host-{base}" if self.secure else base

    def read(self, request: Request, base: str) -> str | None:
        value = request.cookies.get(self.name(base))
        return value or None

    def setter(
        self, base: str, value: str, *, max_age: int | None, samesite: SameSite
    ) -> CookieChange:
        """`max_age=None` sets a browser-session cookie, gone when the browser closes."""
        name = self.name(base)
        secure = self.secure

        def apply(response: Response) -> None:
            response.set_cookie(
                name,
                value,
                max_age=max_age,
                path="/",
                secure=secure,
                httponly=True,
                samesite=samesite,
            )

        return apply

    def deleter(self, base: str, *, samesite: SameSite) -> CookieChange:
        name = self.name(base)
        secure = self.secure

        def apply(response: Response) -> None:
            response.delete_cookie(name, path="/", secure=secure, httponly=True, samesite=samesite)

        return apply


def policy(request: Request) -> CookiePolicy:
    settings: Settings = request.app.state.container.settings
    return CookiePolicy.of(settings)


def _queue(request: Request) -> list[CookieChange]:
    changes: list[CookieChange] | None = getattr(request.state, _QUEUE, None)
    if changes is None:
        changes = []
        setattr(request.state, _QUEUE, changes)
    return changes


def queue(request: Request, change: CookieChange) -> None:
    _queue(request).append(change)


def apply_queued(request: Request, response: Response) -> None:
    for change in _queue(request):
        change(response)
    _queue(request).clear()


def discard_queued(request: Request) -> None:
    _queue(request).clear()


def set_session(
    request: Request,
    *,
    access_token: str,
    refresh_token: str,
    access_seconds: int,
    remember_seconds: int | None = None,
) -> None:
    """Queue the two session cookies: access (Lax) and refresh (Strict).

    Both are browser-session cookies unless the user chose to stay signed in on
    this device: then they persist for `remember_seconds` (the access cookie no
    longer than its token).
    """
    rules = policy(request)
    refresh_seconds = remember_seconds
    access_max = None if remember_seconds is None else min(access_seconds, remember_seconds)
    queue(request, rules.setter(ACCESS, access_token, max_age=access_max, samesite="lax"))
    queue(
        request,
        rules.setter(REFRESH, refresh_token, max_age=refresh_seconds, samesite="strict"),
    )


def session_clearers(rules: CookiePolicy) -> list[CookieChange]:
    return [
        rules.deleter(ACCESS, samesite="lax"),
        rules.deleter(REFRESH, samesite="strict"),
    ]


def clear_session(request: Request) -> None:
    for change in session_clearers(policy(request)):
        queue(request, change)
