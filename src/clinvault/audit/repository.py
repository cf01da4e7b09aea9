"""All SQL over audit_events: log queries, chaining, verification and export."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.audit.schemas import AuditFilters
from clinvault.models.audit import AuditEvent

_ADVISORY_LOCK_ID = 0x636C6E76  # "clnv"
COLUMNS: tuple[str, ...] = tuple(column.key for column in AuditEvent.__table__.columns)


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _conditions(filters: AuditFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.organization_id is not None:
        conditions.append(AuditEvent.organization_id == filters.organization_id)
    if filters.actor_id is not None:
        conditions.append(AuditEvent.actor_id == filters.actor_id)
    if filters.action_prefix:
        pattern = _escape_like(filters.action_prefix) + "%"
        conditions.append(AuditEvent.action.like(pattern, escape="\\"))
    if filters.outcome is not None:
        conditions.append(AuditEvent.outcome == filters.outcome)
    if filters.resource_type is not None:
        conditions.append(AuditEvent.resource_type == filters.resource_type)
    if filters.resource_id is not None:
        conditions.append(AuditEvent.resource_id == filters.resource_id)
    if filters.status_code is not None:
        conditions.append(AuditEvent.status_code == filters.status_code)
    if filters.since is not None:
        conditions.append(AuditEvent.occurred_at >= filters.since)
    if filters.until is not None:
        conditions.append(AuditEvent.occurred_at < filters.until)
    return conditions


class AuditRepository:
    """Audit log queries; the caller passes the tenant in `filters.organization_id`."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def list_events(
        self, filters: AuditFilters, *, limit: int, offset: int
    ) -> Sequence[AuditEvent]:
        query = (
            select(AuditEvent)
            .where(*_conditions(filters))
            .order_by(AuditEvent.occurred_at.desc(), AuditEvent.seq.desc())
            .limit(limit)
            .offset(offset)
        )
        return (await self._session.scalars(query)).all()

    async def count_events(self, filters: AuditFilters) -> int:
        query = select(func.count()).select_from(AuditEvent).where(*_conditions(filters))
        return int(await self._session.scalar(query) or 0)


async def lock_chain(session: AsyncSession) -> None:
    """Hold the chain for the rest of the transaction, so one chainer runs at a time.

    PostgreSQL takes a transaction-scoped advisory lock. SQLite takes its write
    lock up front with an empty UPDATE, so the chainer waits for other writers
    (busy timeout) instead of failing when it upgrades a stale read snapshot.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text(f"SELECT pg_advisory_xact_lock({_ADVISORY_LOCK_ID})"))
    else:
        await session.execute(text("UPDATE audit_events SET chain_seq = chain_seq WHERE 1 = 0"))


async def chain_head(session: AsyncSession) -> tuple[int, str] | None:
    """The last chained position and its hash, or None before the first link."""
    row = (
        await session.execute(
            select(AuditEvent.chain_seq, AuditEvent.chain_hash)
            .where(AuditEvent.chain_seq.is_not(None))
            .order_by(AuditEvent.chain_seq.desc())
            .limit(1)
        )
    ).first()
    if row is None or row[0] is None:
        return None
    return int(row[0]), str(row[1] or "")


async def unchained_events(
    session: AsyncSession, *, after_seq: int = 0, limit: int
) -> Sequence[AuditEvent]:
    """Events not linked yet, in sequence order."""
    return (
        await session.scalars(
            select(AuditEvent)
            .where(AuditEvent.chain_seq.is_(None), AuditEvent.seq > after_seq)
            .order_by(AuditEvent.seq)
            .limit(limit)
        )
    ).all()


async def chained_events(
    session: AsyncSession, *, after_chain_seq: int, limit: int
) -> Sequence[AuditEvent]:
    """Linked events in chain order, starting after `after_chain_seq`."""
    return (
        await session.scalars(
            select(AuditEvent)
            .where(AuditEvent.chain_seq > after_chain_seq)
            .order_by(AuditEvent.chain_seq)
            .limit(limit)
        )
    ).all()


async def chain_hashes_at(session: AsyncSession, positions: Collection[int]) -> dict[int, str]:
    """chain_hash by chain_seq for those of `positions` that exist."""
    if not positions:
        return {}
    rows = await session.execute(
        select(AuditEvent.chain_seq, AuditEvent.chain_hash).where(
            AuditEvent.chain_seq.in_(sorted(set(positions)))
        )
    )
    return {int(seq): str(digest or "") for seq, digest in rows if seq is not None}


async def count_unchained(session: AsyncSession) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.chain_seq.is_(None))
        )
        or 0
    )


async def export_batch(
    session: AsyncSession,
    *,
    after_seq: int,
    limit: int,
    organization_id: uuid.UUID | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Sequence[AuditEvent]:
    """The next events in sequence order after `after_seq`, narrowed by tenant and time."""
    filters = AuditFilters(organization_id=organization_id, since=since, until=until)
    query = (
        select(AuditEvent)
        .where(AuditEvent.seq > after_seq, *_conditions(filters))
        .order_by(AuditEvent.seq)
        .limit(limit)
    )
    return (await session.scalars(query)).all()
