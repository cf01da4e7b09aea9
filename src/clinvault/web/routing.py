"""The portal's route class and what counts as a portal request.

`PortalRoute` applies the cookie changes queued during a request to the
response its handler returned. Exceptions pass through untouched, so the
request's transaction rolls back and the portal error handlers (errors.py)
render the page.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from clinvault.web import cookies

# Paths served as JSON (or files) rather than portal pages.
NON_PORTAL_PREFIXES = ("/api/", "/fhir/", "/static/")
NON_PORTAL_PATHS = frozenset({"/api", "/fhir", "/static", "/healthz", "/readyz"})


class PortalRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def portal_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except Exception as exc:
                # A fault no handler takes still answers with a page (errors import us).
                from clinvault.web.error_pages import unexpected

                response = await unexpected(request, exc)
            cookies.apply_queued(request, response)
            return response

        return portal_handler


def is_portal_request(request: Request) -> bool:
    """True for pages of the portal; the API and FHIR keep problem+json."""
    route = request.scope.get("route")
    if isinstance(route, PortalRoute):
        return True
    if isinstance(route, APIRoute):
        return False
    path = request.url.path
    return path not in NON_PORTAL_PATHS and not path.startswith(NON_PORTAL_PREFIXES)
