"""Helpers for the audit tests: requests that leave events, direct SQL on the log."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.sql.dml import Delete, Insert, Update

from clinvault.bootstrap import Container
from clinvault.models import AuditEvent

TABLE = AuditEvent.__table__


async def make_requests(client: httpx.AsyncClient, count: int) -> None:
    """`count` audited requests that need no account: health checks and unknown paths."""
    for index in range(count):
        if index % 2:
            response = await client.get("/api/health/health")
            assert response.status_code == 200
        else:
            response = await client.get(f"/api/no-such-thing/{index}")
            assert response.status_code == 404


async def all_events(container: Container) -> list[AuditEvent]:
    async with container.db.sessions() as session:
        return list((await session.scalars(select(AuditEvent).order_by(AuditEvent.seq))).all())


async def chained(container: Container) -> list[AuditEvent]:
    async with container.db.sessions() as session:
        query = (
            select(AuditEvent)
            .where(AuditEvent.chain_seq.is_not(None))
            .order_by(AuditEvent.chain_seq)
        )
        return list((await session.scalars(query)).all())


async def tamper(container: Container, *statements: Insert | Update | Delete) -> None:
    """Change the table behind the application's back, as someone with database access."""
    async with container.db.unit_of_work() as session:
        for statement in statements:
            await session.execute(statement)


def row_values(event: AuditEvent, **changes: Any) -> dict[str, Any]:
    values = {column.key: getattr(event, column.key) for column in TABLE.columns}
    values.pop("seq")
    values.update(changes)
    return values


async def move_chain_seq(container: Container, mapping: dict[int, int]) -> None:
    """Renumber chain positions without tripping the unique index mid-statement."""
    parking = [
        update(AuditEvent).where(AuditEvent.chain_seq == old).values(chain_seq=-old)
        for old in mapping
    ]
    landing = [
        update(AuditEvent).where(AuditEvent.chain_seq == -old).values(chain_seq=new)
        for old, new in mapping.items()
    ]
    await tamper(container, *parking, *landing)
