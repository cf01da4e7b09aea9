"""Render every error once, as RFC 9457 problem+json."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from clinvault import context
from clinvault.errors import (
    AppError,
    BodyMalformed,
    DatabaseUnavailable,
    MethodNotAllowed,
    NotFound,
    RequestInvalid,
)

log = structlog.get_logger(__name__)

PROBLEM_JSON = "application/problem+json"


def _request_id(request: Request) -> str:
    ctx = context.current()
    return ctx.request_id if ctx else request.headers.get("x-request-id", "")


def problem_response(request: Request, error: AppError) -> JSONResponse:
    return JSONResponse(
        error.problem(request.url.path, _request_id(request)),
        status_code=error.status,
        media_type=PROBLEM_JSON,
        headers=error.headers,
    )


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    for item in exc.errors():
        location = [str(part) for part in item.get("loc", ())]
        errors.append(
            {
                "field": ".".join(location[1:]) or location[0] if location else "",
                "in": location[0] if location else "body",
                "message": item.get("msg", "invalid value"),
                "type": item.get("type", "value_error"),
            }
        )
    return errors


async def _on_app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return problem_response(request, exc)


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _field_errors(exc)
    if any(e["type"] == "json_invalid" for e in errors):
        return problem_response(
            request,
            BodyMalformed("The body is not valid JSON: send a well-formed JSON document."),
        )
    fields = ", ".join(sorted({e["field"] for e in errors if e["field"]})) or "the request"
    detail = f"Correct the listed fields and send the request again ({fields})."
    return problem_response(request, RequestInvalid(detail, errors=errors))


def allowed_methods(request: Request) -> list[str]:
    """Every method some route answers at this path (HEAD wherever GET is)."""
    scope = {**request.scope, "method": "GET"}
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.router.routes):
        route_methods = route.methods
        if route_methods and route.matches(scope)[0] != Match.NONE:
            methods |= set(route_methods)
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        error: AppError = NotFound("No resource at this address: check the URL.")
    elif exc.status_code == 405:
        allowed = allowed_methods(request)
        error = MethodNotAllowed(
            f"{request.method} is not supported here; use {', '.join(allowed)} (see /api/docs).",
            headers={"Allow": ", ".join(allowed)},
        )
    else:
        error = AppError(str(exc.detail))
        error.status = exc.status_code  # type: ignore[misc]
    return problem_response(request, error)


async def _on_database_error(request: Request, exc: Exception) -> JSONResponse:
    """A connection that died under the request is the database's fault, not a bug: 503.

    The pool has already discarded that connection, so a retry gets a fresh one.
    """
    assert isinstance(exc, DBAPIError)
    if not exc.connection_invalidated:
        raise exc  # a bug: on to the 500 handler, logged with its traceback
    log.warning("http.database_disconnected", path=request.url.path)
    error = DatabaseUnavailable(
        "The connection to the database was lost while handling the request: send it "
        "again in a moment.",
        headers={"Retry-After": "1"},
    )
    return problem_response(request, error)


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("http.unhandled_error", path=request.url.path)
    body = {
        "type": "about:blank",
        "title": "Internal error",
        "status": 500,
        "code": "internal_error",
        "detail": "The server failed to handle the request; it was logged. Try again later.",
        "instance": request.url.path,
        "request_id": _request_id(request),
    }
    return JSONResponse(body, status_code=500, media_type=PROBLEM_JSON)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _on_app_error)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(DBAPIError, _on_database_error)
    app.add_exception_handler(Exception, _on_unexpected)
