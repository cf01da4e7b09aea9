"""Query strings of API routes: what a route does not declare is refused, never ignored.

A query parameter that an API route (under /api/) does not take is a 400
problem naming it and listing the accepted ones, derived from the route's
declared parameters (through its dependencies). A limit/offset list also takes
the records-platform design's page/per_page, mapped onto limit/offset.
Portal pages are not checked: links may carry tracking tags.
"""

from __future__ import annotations

from types import UnionType
from typing import Any, Union, get_args, get_origin
from urllib.parse import urlencode

from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel
from starlette.requests import Request
from starlette.routing import Match
from starlette.types import Scope

from clinvault.errors.base import RequestInvalid
from clinvault.errors.inputs import QueryParameterUnknown

API_PREFIX = "/api/"
_accepted_cache: dict[int, tuple[APIRoute, frozenset[str]]] = {}


def _query_model(annotation: Any) -> type[BaseModel] | None:
    if get_origin(annotation) in (Union, UnionType):
        members = [arg for arg in get_args(annotation) if arg is not type(None)]
        annotation = members[0] if len(members) == 1 else None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def accepted_query(route: APIRoute) -> frozenset[str]:
    """The query parameter names a route declares, through all of its dependencies."""
    cached = _accepted_cache.get(id(route))
    if cached is not None and cached[0] is route:
        return cached[1]
    names: set[str] = set()
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        stack.extend(dependant.dependencies)
        for field in dependant.query_params:
            model = _query_model(field.field_info.annotation)
            if model is None:
                names.add(field.alias)
            else:
                names.update(info.alias or name for name, info in model.model_fields.items())
    accepted = frozenset(names)
    _accepted_cache[id(route)] = (route, accepted)
    return accepted


PAGE_ALIASES = frozenset({"page", "per_page"})


def _limit_default(route: APIRoute) -> int:
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        stack.extend(dependant.dependencies)
        for field in dependant.query_params:
            if field.alias == "limit" and isinstance(field.default, int):
                return field.default
    return 50


def _page_to_offset(scope: Scope, route: APIRoute, pairs: list[tuple[str, str]]) -> Scope:
    """page/per_page on a limit/offset list, as the records-platform design pages every list."""
    given = dict(pairs)
    if "limit" in given or "offset" in given:
        raise RequestInvalid(
            "Send either page/per_page or limit/offset, not both.",
            errors=[{"field": "page", "in": "query", "message": "mixed with limit/offset"}],
        )
    numbers: dict[str, int] = {}
    for name in ("page", "per_page"):
        if name in given:
            text = given[name].strip()
            if not text.isdigit() or not 1 <= int(text) <= 1_000_000:
                raise RequestInvalid(
                    f"{name} must be a whole number from 1.",
                    errors=[{"field": name, "in": "query", "message": "a whole number from 1"}],
                )
            numbers[name] = int(text)
    per_page = numbers.get("per_page", _limit_default(route))
    offset = (numbers.get("page", 1) - 1) * per_page
    kept = [(k, v) for k, v in pairs if k not in PAGE_ALIASES]
    kept += [("limit", str(per_page)), ("offset", str(offset))]
    return {**scope, "query_string": urlencode(kept).encode("latin-1")}


def checked_query(scope: Scope) -> Scope:
    """The scope to serve: unknown query parameters refused, page/per_page mapped when needed."""
    path = scope.get("path", "")
    app = scope.get("app")
    if not path.startswith(API_PREFIX) or not scope.get("query_string") or app is None:
        return scope
    pairs = Request(scope).query_params.multi_items()
    given = {key for key, _ in pairs}
    if not given:
        return scope
    for included in iter_route_contexts(app.router.routes):
        if included.matches(scope)[0] != Match.FULL:
            continue
        route = included.original_route
        if not isinstance(route, APIRoute):
            return scope
        accepted = accepted_query(route)
        paged = {"limit", "offset"} <= accepted and "page" not in accepted
        listed_names = accepted | PAGE_ALIASES if paged else accepted
        unknown = sorted(given - listed_names)
        if unknown:
            listed = ", ".join(sorted(listed_names)) or "none"
            raise QueryParameterUnknown(
                f"This route does not take the query parameter(s) {', '.join(unknown)}; "
                f"it accepts: {listed}. Correct or remove them and send the request again.",
                errors=[
                    {
                        "field": name,
                        "in": "query",
                        "message": f"Unknown query parameter; accepted: {listed}.",
                        "accepted": sorted(listed_names),
                    }
                    for name in unknown
                ],
            )
        if paged and given & PAGE_ALIASES:
            return _page_to_offset(scope, route, pairs)
        return scope
    return scope
