"""Per-request context: request id, client, principal and the audit facts.

Services describe what they touched (`describe_resource`) without knowing
about HTTP; the audit layer turns the context into exactly one event.
"""

from __future__ import annotations

import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field

from clinvault.identity.principal import Principal


@dataclass
class RequestContext:
    request_id: str
    method: str = ""
    path: str = ""
    client_ip: str | None = None
    user_agent: str | None = None
    action: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    principal: Principal | None = None
    actor_hint: uuid.UUID | None = None
    organization_hint: uuid.UUID | None = None
    audit_detail: str | None = None
    audit_recorded: bool = False
    status_hint: int | None = None
    extra: dict[str, str] = field(default_factory=dict)


_current: ContextVar[RequestContext | None] = ContextVar("clinvault_request", default=None)


def current() -> RequestContext | None:
    return _current.get()


def bind(ctx: RequestContext) -> object:
    return _current.set(ctx)


def reset(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]


def describe_resource(resource_type: str, resource_id: object | None = None) -> None:
    """Name the resource the current request acts on, for its audit event."""
    ctx = _current.get()
    if ctx is not None:
        ctx.resource_type = resource_type
        ctx.resource_id = None if resource_id is None else str(resource_id)


def note_actor(user_id: uuid.UUID, organization_id: uuid.UUID | None = None) -> None:
    """Record who tried to act when no principal exists yet (e.g. failed login)."""
    ctx = _current.get()
    if ctx is not None:
        ctx.actor_hint = user_id
        ctx.organization_hint = organization_id


def note_detail(detail: str) -> None:
    """A short, PHI-free reason for the audit event (e.g. "mfa_required")."""
    ctx = _current.get()
    if ctx is not None:
        ctx.audit_detail = detail[:200]


def bind_principal(principal: Principal) -> None:
    ctx = _current.get()
    if ctx is not None:
        ctx.principal = principal


def note_status(status_code: int) -> None:
    """The status the handler will answer with, when it differs from the route's."""
    ctx = _current.get()
    if ctx is not None:
        ctx.status_hint = status_code
