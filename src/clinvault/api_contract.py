"""The API's published contract, kept honest for every route, present and future.

`install_api_contract(app)` runs once in create_app, after every router is included:

* every JSON request body is read by the one bounded parser
  (`clinvault.inputs.parse_json`) before the route sees it, so a deeply
  nested or malformed document is a 400/413 problem;
* the OpenAPI document declares bearer authentication (`securitySchemes`)
  on the routes that take a principal, and each route's 4xx answers as
  `application/problem+json` with the `Problem` schema: those implied by
  what the route takes (a principal: 401/403; a path id: 404; parameters or a
  body: 422; a JSON body: 400/413; a database session: 503) plus those a route
  or router declares with `responses=problem_responses(409, ...)`.

A query parameter that an API route (under /api/) does not declare is a 400
problem naming it and listing the accepted ones, so a mistyped filter never
looks like an unfiltered result; portal pages may ignore unknown parameters.
A limit/offset list also takes the records-platform design's page/per_page.

405 for undeclared methods (with `Allow`) and HEAD on GET routes come from
the router and the problem handlers (problems.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from email.message import Message
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.types import Message as Message_

from clinvault import context
from clinvault.deps import get_principal, get_session
from clinvault.errors.base import RequestInvalid
from clinvault.errors.inputs import JsonRejected, JsonTooLarge, QueryParameterUnknown
from clinvault.inputs import MAX_JSON_DEPTH, parse_json
from clinvault.problems import problem_response
from clinvault.query_contract import checked_query

PROBLEM_JSON = "application/problem+json"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
BEARER_SCHEME = "bearerAuth"
_PROBLEM_MARK = "x-problem"
KEEP_CONTENT = "x-keep-content"
"""In a route's `responses` entry: its own content stays beside problem+json (OAuth errors)."""

STATUS_TEXT = {
    400: "The body could not be read (malformed JSON, too deeply nested), or a query "
    "parameter the route does not take",
    401: "Authentication required or the token is not valid",
    403: "Not allowed for this account",
    404: "Not found (or not visible to this account)",
    405: "Method not allowed",
    409: "Conflicts with the current state",
    410: "No longer available",
    413: "The body is too large",
    415: "Unsupported media type",
    422: "The request is not valid: `errors` lists each field",
    429: "Too many attempts: wait for Retry-After",
    503: "A dependency (such as the database) is unavailable: retry shortly",
}


class FieldProblem(BaseModel):
    model_config = ConfigDict(extra="allow")

    field: str | None = None
    message: str | None = None


class Problem(BaseModel):
    """RFC 9457 problem details, as every error of the API is answered."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int = Field(ge=400, le=599)
    code: str = Field(description="Stable machine-readable code.")
    detail: str = Field(description="What is wrong and how to fix it.")
    instance: str
    request_id: str
    errors: list[FieldProblem] | None = None


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route or router: these statuses answer application/problem+json."""
    return {
        status: {"description": STATUS_TEXT.get(status, "Problem"), _PROBLEM_MARK: True}
        for status in statuses
    }


# --- bounded JSON bodies and HEAD ---------------------------------------------------------


def _is_json(scope: Scope) -> bool:
    raw = next((v for k, v in scope.get("headers", ()) if k == b"content-type"), None)
    if raw is None:
        return False  # FastAPI decodes JSON only when the content type says so
    message = Message()
    message["content-type"] = bytes(raw).decode("latin-1")
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


class ApiGuard:
    """Pure ASGI, inside RequestPipeline (which has bounded the body's size).

    A JSON body is read whole, checked by `parse_json` and replayed to the
    route; a refused document is answered here as problem+json. HEAD is served
    as GET without the body, so every GET route answers HEAD.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        max_depth: int = MAX_JSON_DEPTH,
        streamed: Iterable[re.Pattern[str]] = (),
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_depth = max_depth
        # Paths whose route reads its JSON body itself, as a stream, through parse_json.
        self.streamed = tuple(streamed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        head = scope["method"] == "HEAD"
        try:
            checked = checked_query({**scope, "method": "GET"} if head else scope)
        except (QueryParameterUnknown, RequestInvalid) as error:
            _name_action(scope)
            await problem_response(Request(scope), error)(scope, receive, send)
            return
        # page/per_page mapped onto limit/offset, in place: outer middleware reads this scope
        scope["query_string"] = checked.get("query_string", b"")
        if head:
            await self.app({**scope, "method": "GET"}, receive, _without_body(send))
            return
        if not _is_json(scope) or any(p.fullmatch(scope["path"]) for p in self.streamed):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body:
            try:
                parse_json(body, max_depth=self.max_depth, max_bytes=self.max_bytes)
            except (JsonRejected, JsonTooLarge) as error:
                _name_action(scope)
                await problem_response(Request(scope), error)(scope, receive, send)
                return
        replayed = False

        async def replay() -> Message_:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def _name_action(scope: Scope) -> None:
    """The refused request is audited under the route it was meant for."""
    ctx = context.current()
    app = scope.get("app")
    if ctx is None or ctx.action is not None or app is None:
        return
    for route in iter_route_contexts(app.router.routes):
        if route.matches(scope)[0] == Match.FULL:
            ctx.action = route.name
            return


def _without_body(send: Send) -> Send:
    async def send_head(message: Message_) -> None:
        if message["type"] == "http.response.body":
            if message.get("more_body", False):
                return
            message = {"type": "http.response.body", "body": b"", "more_body": False}
        await send(message)

    return send_head


# --- OpenAPI ------------------------------------------------------------------------------


def _calls(route: APIRoute) -> set[Callable[..., Any]]:
    found: set[Callable[..., Any]] = set()
    stack = list(route.dependant.dependencies)
    while stack:
        dependant = stack.pop()
        if dependant.call is not None:
            found.add(dependant.call)
        stack.extend(dependant.dependencies)
    return found


def _has_params(route: APIRoute) -> bool:
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        if dependant.query_params or dependant.path_params or dependant.body_params:
            return True
        stack.extend(dependant.dependencies)
    return False


def implied_statuses(route: APIRoute) -> set[int]:
    """The problem statuses a route can answer because of what it takes."""
    calls = _calls(route)
    statuses: set[int] = {400}  # a query parameter the route does not take (query_contract)
    if get_principal in calls:
        statuses |= {401, 403}
    if route.dependant.path_params or (get_principal in calls and route.body_field is not None):
        statuses |= {404, 422}  # a named object may not exist in the caller's organization
    if _has_params(route):
        statuses.add(422)
    if route.body_field is not None:
        statuses |= {400, 413, 422}
    if get_session in calls:
        statuses.add(503)
    declared = {
        int(status)
        for status, spec in route.responses.items()
        if isinstance(spec, dict) and spec.get(_PROBLEM_MARK)
    }
    return statuses | declared


def _problem_schema() -> dict[str, Any]:
    schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    definitions = schema.pop("$defs", {})
    return {"Problem": schema, **definitions}


def amend_openapi(document: dict[str, Any], routes: list[tuple[str, APIRoute]]) -> dict[str, Any]:
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.update(_problem_schema())
    components["securitySchemes"] = {
        BEARER_SCHEME: {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "An access token from POST /api/auth/login.",
        }
    }
    for path, route in routes:
        path_item = document.get("paths", {}).get(path)
        if path_item is None:
            continue
        statuses = implied_statuses(route)
        secured = get_principal in _calls(route)
        for method in route.methods or ():
            operation = path_item.get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for status in sorted(statuses):
                entry = responses.setdefault(str(status), {})
                entry.pop(_PROBLEM_MARK, None)
                entry["description"] = entry.get("description") or STATUS_TEXT.get(
                    status, "Problem"
                )
                if entry["description"] == "Validation Error":
                    entry["description"] = STATUS_TEXT[422]
                kept = entry.get("content", {}) if entry.pop(KEEP_CONTENT, False) else {}
                entry["content"] = {**kept, PROBLEM_JSON: {"schema": PROBLEM_REF}}
            for entry in responses.values():
                entry.pop(KEEP_CONTENT, None)
            if secured:
                operation["security"] = [{BEARER_SCHEME: []}]
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return document


def api_routes(app: FastAPI) -> list[tuple[str, APIRoute]]:
    """Every API route of the app with its full path (routers are included lazily)."""
    found: list[tuple[str, APIRoute]] = []
    for included in iter_route_contexts(app.router.routes):
        route = included.original_route
        if isinstance(route, APIRoute) and included.path_format:
            found.append((included.path_format, route))
    return found


def install_api_contract(
    app: FastAPI, *, max_json_bytes: int, streamed_json: Iterable[re.Pattern[str]] = ()
) -> None:
    """Call after every router is included and before RequestPipeline is added.

    `streamed_json`: paths whose routes read a JSON body themselves (within their own
    limits, still through `parse_json`)."""
    app.add_middleware(ApiGuard, max_bytes=max_json_bytes, streamed=streamed_json)
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            routes = [(path, r) for path, r in api_routes(app) if r.include_in_schema]
            app.openapi_schema = amend_openapi(generate(), routes)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
