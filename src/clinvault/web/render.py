"""Jinja2 rendering for the portal: autoescaped HTML, no inline script or style.

Templates get a few helpers: `url(name, **params)` for route paths,
`csrf_field(purpose)` for the hidden CSRF input of a form posting to the
route named `purpose`, `static(path)`, and the navigation of the signed-in
user.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from clinvault import context
from clinvault.identity.principal import Principal
from clinvault.localtime import known_zones
from clinvault.timeutil import utcnow
from clinvault.web import csrf
from clinvault.web.local_time import local_time, showing_in, zone_label, zone_of
from clinvault.web.nav import entries_for, role_label
from clinvault.web.route_paths import route_path

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(enabled_extensions=("html",), default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    # Templates ship inside the package and change only with a new release: no stat() of
    # the template file on every render.
    auto_reload=False,
)
environment.globals["role_label"] = role_label
environment.globals["local_time"] = local_time
environment.filters["local_time"] = local_time
environment.globals["known_time_zones"] = known_zones


def _route_name(request: Request) -> str | None:
    route = request.scope.get("route")
    name = getattr(route, "name", None)
    return name if isinstance(name, str) else None


def url(request: Request, name: str, **params: Any) -> str:
    return route_path(request.app.router, name, {k: str(v) for k, v in params.items()})


def page_context(request: Request, principal: Principal | None) -> dict[str, Any]:
    def csrf_field(purpose: str) -> Markup:
        token = csrf.token_for(request, purpose)
        return Markup('<input type="hidden" name="{}" value="{}">').format(csrf.FIELD, token)

    ctx = context.current()
    return {
        "request": request,
        "request_id": ctx.request_id if ctx else "",
        "principal": principal,
        "nav": entries_for(principal.roles) if principal else [],
        "current_route": _route_name(request),
        "url": lambda name, **params: url(request, name, **params),
        "static": lambda path: f"/static/{path}",
        "csrf_field": csrf_field,
        # Set by require_principal for signed-in pages; None hides the counter.
        "unread_notifications": getattr(request.state, "unread_notifications", None),
        # Times are shown in this zone (local_time); set by require_principal, else UTC.
        "viewer_zone": zone_label(zone_of(request), utcnow()),
    }


def render(
    request: Request,
    template: str,
    values: Mapping[str, Any] | None = None,
    *,
    principal: Principal | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render `template` as the response; records `status_code` for the audit event."""
    data = page_context(request, principal)
    data.update(values or {})
    with showing_in(zone_of(request)):
        body = environment.get_template(template).render(data)
    if status_code != 200:
        context.note_status(status_code)
    return HTMLResponse(body, status_code=status_code, headers=dict(headers or {}))
