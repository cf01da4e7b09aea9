"""HTML error pages for portal requests; the API keeps problem+json.

`install(app)` wraps the handlers already registered (problems.py) for the
exception classes below: a portal request gets a page, anything else is
passed to the previous handler unchanged. Handlers run after the request's
transaction rolled back, so a failed page changes nothing.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from clinvault import context
from clinvault.errors import AppError, AuthenticationRequired, CsrfFailed
from clinvault.web import cookies
from clinvault.web.error_pages import DETAILS, TITLES, error_page
from clinvault.web.routing import is_portal_request
from clinvault.web.session import (
    CHOOSE_PASSWORD_PATH,
    LoginRequired,
    PasswordChoiceRequired,
    here,
    safe_next,
)

Handler = Callable[[Request, Exception], Awaitable[Response]]
AnyHandler = Callable[[Request, Any], Response | Awaitable[Response]]

_TITLES = TITLES
_DETAILS = DETAILS


def login_redirect(
    request: Request, next_path: str | None, *, clear: bool = True, notice: str | None = None
) -> Response:
    """303 to the sign-in page, remembering a relative `next`, and drop stale cookies."""
    cookies.discard_queued(request)
    target = "/login"
    destination = safe_next(next_path)
    query = {"next": destination} if destination != "/" else {}
    if notice:
        query["notice"] = notice
    if query:
        target += "?" + urlencode(query)
    context.note_status(303)
    response = RedirectResponse(target, status_code=303)
    rules = cookies.policy(request)
    if clear and (rules.read(request, cookies.ACCESS) or rules.read(request, cookies.REFRESH)):
        for change in cookies.session_clearers(rules):
            change(response)
    return response


async def _on_login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    return login_redirect(request, exc.next_path, clear=exc.clear_cookies, notice=exc.notice)


async def _on_password_choice(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PasswordChoiceRequired)
    cookies.discard_queued(request)
    destination = safe_next(exc.next_path)
    target = CHOOSE_PASSWORD_PATH
    if destination != "/":
        target += "?" + urlencode({"next": destination})
    context.note_status(303)
    return RedirectResponse(target, status_code=303)


async def _on_app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    if isinstance(exc, AuthenticationRequired):
        return login_redirect(request, here(request) if request.method == "GET" else None)
    if isinstance(exc, CsrfFailed):
        return await error_page(request, 403, "This form could not be verified", exc.detail)
    return await error_page(request, exc.status, _TITLES.get(exc.status, exc.title), exc.detail)


async def _on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    title = _TITLES.get(status, "Something went wrong")
    detail = _DETAILS.get(status, "Go back and try again.")
    return await error_page(request, status, title, detail)


async def _on_validation(request: Request, exc: Exception) -> Response:
    return await error_page(request, 400, _TITLES[400], _DETAILS[400])


def _portal_first(portal: Handler, previous: AnyHandler | None) -> Handler:
    async def handle(request: Request, exc: Exception) -> Response:
        if previous is None or is_portal_request(request):
            return await portal(request, exc)
        answer = previous(request, exc)
        return await answer if inspect.isawaitable(answer) else answer

    return handle


def install(app: FastAPI) -> None:
    """Route portal errors to HTML pages, keeping any existing handler for the rest."""
    handlers: list[tuple[type[Exception], Handler]] = [
        (AppError, _on_app_error),
        (StarletteHTTPException, _on_http),
        (RequestValidationError, _on_validation),
    ]
    for exc_class, portal in handlers:
        previous = app.exception_handlers.get(exc_class)
        app.add_exception_handler(exc_class, _portal_first(portal, previous))
    app.add_exception_handler(LoginRequired, _on_login_required)
    app.add_exception_handler(PasswordChoiceRequired, _on_password_choice)
