"""What a portal error page says, to whom, and where it sends the reader next.

Every error page keeps the site's navigation for a signed-in reader: the
principal the request already resolved, or else the one its access cookie
names (read only: an error page never refreshes a session). Each status has
a plain next step, and a page reached by sending a form links back to it.
An exception no handler knows (a bug) becomes a 500 page here, for portal
routes only, after the request's transaction rolled back; a dropped database
connection becomes a 503 page.
"""

from __future__ import annotations

import structlog
from fastapi import Request, Response
from sqlalchemy.exc import DBAPIError

from clinvault import context
from clinvault.errors import AuthenticationRequired, PermissionDenied
from clinvault.identity.authn import authenticate_bearer
from clinvault.identity.principal import Principal
from clinvault.problems import allowed_methods
from clinvault.web import cookies
from clinvault.web.render import render

log = structlog.get_logger(__name__)

TITLES = {
    400: "The request could not be understood",
    403: "You do not have access to this page",
    404: "Page not found",
    405: "This action is not available here",
    410: "This link is no longer valid",
    413: "What you sent is too large",
    422: "Some details need correcting",
    429: "Too many attempts",
    500: "Something went wrong on our side",
    503: "The service is briefly unavailable",
}
DETAILS = {
    400: "Go back, check what you entered and try again.",
    403: "Your account does not have permission to open this page.",
    404: "There is no page at this address.",
    405: "Go back and use the buttons on the page.",
    500: "The page could not be shown because of a fault on our side; it was logged.",
}
NEXT_STEPS = {
    400: "Go back, check what you entered and send it again.",
    403: "Use the menu to open a page your account can use, or ask an administrator of your "
    "organization for access.",
    404: "Check the address, or use the menu to find what you need.",
    405: "Go back and use the buttons on the page.",
    410: "Ask for a new link.",
    413: "Go back and send fewer or smaller files at once: nothing you sent was stored.",
    422: "Go back and correct what the message names.",
    429: "Wait a few minutes, then try again.",
    500: "Try again in a moment. If it happens again, contact your administrator and give them "
    "the request number at the bottom of this page.",
    503: "Wait a minute and try again: nothing was changed.",
}
GENERIC_NEXT = "Go back and try again, or use the menu to carry on."


async def viewer(request: Request) -> Principal | None:
    """Who is signed in, for the navigation of an error page; None when unknown."""
    ctx = context.current()
    if ctx is not None and ctx.principal is not None:
        return ctx.principal
    token = cookies.policy(request).read(request, cookies.ACCESS)
    container = getattr(request.app.state, "container", None)
    if token is None or container is None:
        return None
    try:
        async with container.db.unit_of_work() as session:
            return await authenticate_bearer(container, session, token)
    except (AuthenticationRequired, PermissionDenied):
        return None
    except Exception:
        # The page still has to be shown when the database is the problem.
        log.warning("portal.error_page.viewer_unknown")
        return None


def _back_to(request: Request) -> str | None:
    """The page a refused form was sent from, when that address can be opened."""
    if request.method == "GET":
        return None
    try:
        return request.url.path if "GET" in allowed_methods(request) else None
    except Exception:
        return None


async def error_page(request: Request, status_code: int, title: str, detail: str) -> Response:
    cookies.discard_queued(request)
    principal = await viewer(request)
    return render(
        request,
        "error.html",
        {
            "status_code": status_code,
            "title": title,
            "detail": detail,
            "next_step": NEXT_STEPS.get(status_code, GENERIC_NEXT),
            "back_to": _back_to(request),
        },
        principal=principal,
        status_code=status_code,
    )


async def unexpected(request: Request, exc: Exception) -> Response:
    """A 500 (or 503) page for an exception no handler takes; re-raises the others."""
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            log.warning("http.database_disconnected", path=request.url.path)
            return await error_page(
                request,
                503,
                TITLES[503],
                "The connection to the database was lost while handling your request.",
            )
    else:
        handlers = request.app.exception_handlers
        for cls in type(exc).__mro__:
            if cls is Exception:
                break
            if cls in handlers:
                raise exc
    log.exception("http.unhandled_error", path=request.url.path)
    return await error_page(request, 500, TITLES[500], DETAILS[500])
