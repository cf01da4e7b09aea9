"""Turn a request context into one audit event, MACed under the audit key.

The MAC is computed at insert time without any lock; the chainer links
events later in chain order (see chain.py). A row inserted or edited by direct
SQL has no valid MAC, so `audit verify` names it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.audit.repository import insert_event
from clinvault.context import RequestContext
from clinvault.db import after_commit
from clinvault.ids import uuid7
from clinvault.models.audit import AuditEvent
from clinvault.timeutil import utcnow

MAC_FIELDS = (
    "id",
    "occurred_at",
    "request_id",
    "actor_id",
    "actor_roles",
    "organization_id",
    "action",
    "resource_type",
    "resource_id",
    "outcome",
    "status_code",
    "method",
    "path",
    "client_ip",
    "user_agent",
    "key_version",
    "detail",
)

_SESSION_EVENT = "clinvault.audit.event"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def outcome_for(status_code: int) -> str:
    if status_code < 400:
        return "success"
    if status_code in (401, 403, 429):
        return "denied"
    if status_code < 500:
        return "failure"
    return "error"


def _text(value: str | None, limit: int) -> str | None:
    """Printable and bounded: a control character (NUL included) never reaches a column."""
    if not value:
        return None
    return _CONTROL.sub("\ufffd", value)[:limit]


def _canonical_value(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("audit timestamps must be timezone-aware")
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if value is None or isinstance(value, int | str):
        return value
    return str(value)


def _canonical(values: Mapping[str, Any]) -> bytes:
    payload = {name: _canonical_value(values[name]) for name in MAC_FIELDS}
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


class MacedEvent(Protocol):
    """An event's MACed fields and its MAC: a mapped AuditEvent or a row of its columns."""

    @property
    def mac(self) -> str: ...


def canonical_bytes(event: MacedEvent) -> bytes:
    """The MACed form: the fields above as sorted, compact JSON, times in UTC."""
    return _canonical({name: getattr(event, name) for name in MAC_FIELDS})


def event_mac(key: bytes, event: MacedEvent) -> str:
    return hmac.new(key, canonical_bytes(event), hashlib.sha256).hexdigest()


def _values_mac(key: bytes, values: Mapping[str, Any]) -> str:
    return hmac.new(key, _canonical(values), hashlib.sha256).hexdigest()


def mac_is_valid(key: bytes, event: MacedEvent) -> bool:
    return hmac.compare_digest(event_mac(key, event), event.mac or "")


class AuditRecorder:
    def __init__(self, key: bytes, key_version: int = 1) -> None:
        self._key = key
        self._key_version = key_version

    @property
    def key(self) -> bytes:
        return self._key

    def build(self, ctx: RequestContext, status_code: int) -> AuditEvent:
        return AuditEvent(**self.values(ctx, status_code))

    def values(self, ctx: RequestContext, status_code: int) -> dict[str, Any]:
        """The new event's column values, MAC included (chain fields stay empty)."""
        principal = ctx.principal
        roles = principal.audit_roles if principal else ""
        values: dict[str, Any] = {
            "id": uuid7(),
            "occurred_at": utcnow(),
            "request_id": _text(ctx.request_id, 64) or "",
            "actor_id": principal.user_id if principal else ctx.actor_hint,
            "actor_roles": roles[:200],
            "organization_id": principal.organization_id if principal else ctx.organization_hint,
            "action": _text(ctx.action, 100) or "http.unrouted",
            "resource_type": _text(ctx.resource_type, 64),
            "resource_id": _text(ctx.resource_id, 64),
            "outcome": outcome_for(status_code),
            "status_code": status_code,
            "method": _text(ctx.method, 10) or "",
            "path": _text(ctx.path, 300) or "",
            "client_ip": _text(ctx.client_ip, 64),
            "user_agent": _text(ctx.user_agent, 300),
            "key_version": self._key_version,
            "detail": _text(ctx.audit_detail, 200),
        }
        values["mac"] = _values_mac(self._key, values)
        return values

    async def record_for_tenant(
        self,
        session: AsyncSession,
        ctx: RequestContext,
        *,
        organization_id: object,
        detail: str,
        action: str,
        status_code: int = 200,
    ) -> None:
        """A copy of the request's event in another tenant's log, in the caller's transaction.

        For work shared across tenants (a pharmacy dispensing a provider's
        prescription): the owner's audit view shows what the other organization
        did. `detail` names the acting organization; ids only, never PHI. `action`
        names the event while the route has not named the request yet.
        """
        values = self.values(ctx, status_code)
        values["organization_id"] = organization_id
        values["detail"] = _text(detail, 200)
        values["action"] = _text(ctx.action or action, 100)
        values.pop("mac")
        values["mac"] = _values_mac(self._key, values)
        await insert_event(session, values)

    async def record(self, session: AsyncSession, ctx: RequestContext, status_code: int) -> None:
        """Add the request's event to the caller's transaction (exactly once).

        The context counts as recorded only once that transaction commits: a
        rolled-back write leaves the request unrecorded, so the pipeline still
        writes its failure event.
        """
        if ctx.audit_recorded or _SESSION_EVENT in session.info:
            return
        await session.flush()  # the request's own pending writes first, as before
        await insert_event(session, self.values(ctx, status_code))
        session.info[_SESSION_EVENT] = ctx.request_id

        async def mark_recorded() -> None:
            ctx.audit_recorded = True

        after_commit(session, mark_recorded)
