"""Audit events recorded at chosen instants through the real recorder (MACed like any other)."""

from __future__ import annotations

import uuid
from datetime import datetime

from clinvault.audit.recorder import event_mac
from clinvault.bootstrap import Container
from clinvault.context import RequestContext
from clinvault.ids import uuid7


async def record_events(
    container: Container,
    moments: list[datetime],
    *,
    action: str,
    status: int = 200,
    actor_id: uuid.UUID | None = None,
    organization_id: uuid.UUID | None = None,
    resource_type: str | None = None,
    resource_ids: list[str] | None = None,
    client_ip: str = "192.0.2.50",
) -> None:
    """One event per moment, as if a request had happened then; resource ids pair with moments."""
    async with container.db.unit_of_work() as session:
        for index, moment in enumerate(moments):
            ctx = RequestContext(
                request_id=uuid7().hex[:24],
                method="GET",
                path="/api/recorded",
                client_ip=client_ip,
                action=action,
                resource_type=resource_type,
                resource_id=resource_ids[index] if resource_ids else None,
                actor_hint=actor_id,
                organization_hint=organization_id,
            )
            event = container.audit.build(ctx, status)
            event.occurred_at = moment
            event.mac = event_mac(container.audit.key, event)
            session.add(event)
