"""Turn a request context into one audit event, MACed under the audit key.

The MAC is computed at insert time without any lock; the chainer links
events later in sequence order (see chain.py). A row inserted by direct SQL
has no valid MAC, so `audit verify` names it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.context import RequestContext
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
    "detail",
)


def outcome_for(status_code: int) -> str:
    if status_code < 400:
        return "success"
    if status_code in (401, 403, 429):
        return "denied"
    if status_code < 500:
        return "failure"
    return "error"


def _canonical_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    if value is None or isinstance(value, int | str):
        return value
    return str(value)


def canonical_bytes(event: AuditEvent) -> bytes:
    payload = {name: _canonical_value(getattr(event, name)) for name in MAC_FIELDS}
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def event_mac(key: bytes, event: AuditEvent) -> str:
    return hmac.new(key, canonical_bytes(event), hashlib.sha256).hexdigest()


class AuditRecorder:
    def __init__(self, key: bytes, key_version: int = 1) -> None:
        self._key = key
        self._key_version = key_version

    @property
    def key(self) -> bytes:
        return self._key

    def build(self, ctx: RequestContext, status_code: int) -> AuditEvent:
        principal = ctx.principal
        event = AuditEvent(
            id=uuid7(),
            occurred_at=utcnow(),
            request_id=ctx.request_id[:64],
            actor_id=principal.user_id if principal else ctx.actor_hint,
            actor_roles=",".join(sorted(principal.roles)) if principal else "",
            organization_id=principal.organization_id if principal else ctx.organization_hint,
            action=(ctx.action or "http.unrouted")[:100],
            resource_type=ctx.resource_type,
            resource_id=ctx.resource_id,
            outcome=outcome_for(status_code),
            status_code=status_code,
            method=ctx.method[:10],
            path=ctx.path[:300],
            client_ip=ctx.client_ip,
            user_agent=(ctx.user_agent or "")[:300] or None,
            key_version=self._key_version,
            detail=ctx.audit_detail,
        )
        event.mac = event_mac(self._key, event)
        return event

    async def record(self, session: AsyncSession, ctx: RequestContext, status_code: int) -> None:
        """Add the request's event to the caller's transaction (exactly once)."""
        if ctx.audit_recorded:
            return
        session.add(self.build(ctx, status_code))
        await session.flush()
        ctx.audit_recorded = True
