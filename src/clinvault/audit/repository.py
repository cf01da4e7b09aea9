"""All SQL over audit_events: log queries, chaining, verification and export."""

from __future__ import annotations

import typing
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Row,
    Table,
    and_,
    bindparam,
    cast,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.audit.schemas import AuditFilters
from clinvault.audit.summary import HOUR_SECONDS
from clinvault.audit.suspicious import (
    DENIED_STATUSES,
    LOGIN_ACTIONS,
    ActivityBucket,
    ActivityEvent,
)
from clinvault.models.audit import AuditEvent

_ADVISORY_LOCK_ID = 0x636C6E76  # "clnv"
SUMMARY_GROUP_LIMIT = 200
QUARTER_HOUR_SECONDS = 900
COLUMNS: tuple[str, ...] = tuple(column.key for column in AuditEvent.__table__.columns)


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _conditions(filters: AuditFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.organization_id is not None:
        conditions.append(AuditEvent.organization_id == filters.organization_id)
    if filters.actor_id is not None:
        conditions.append(AuditEvent.actor_id == filters.actor_id)
    if filters.actor_ids is not None:
        conditions.append(AuditEvent.actor_id.in_(sorted(set(filters.actor_ids))))
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


@dataclass(frozen=True, slots=True)
class SummaryCounts:
    total: int
    by_action: list[tuple[str, int]]
    by_actor: list[tuple[uuid.UUID | None, int]]
    by_outcome: list[tuple[str, int]]
    by_hour: dict[int, int]


def _epoch_bucket(session: AsyncSession, seconds: int) -> ColumnElement[int]:
    """Whole `seconds` since the Unix epoch of occurred_at, on either database."""
    if session.get_bind().dialect.name == "postgresql":
        epoch = func.extract("epoch", AuditEvent.occurred_at)
        return cast(func.floor(epoch / seconds), BigInteger)
    # SQLite keeps UTC text; strftime('%s') reads it as UTC seconds.
    return cast(func.strftime("%s", AuditEvent.occurred_at), Integer) // seconds


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

    async def summary_counts(self, filters: AuditFilters) -> SummaryCounts:
        """Counts by action, actor, outcome and epoch hour, each one GROUP BY."""
        where = _conditions(filters)
        count = func.count().label("n")
        hour = _epoch_bucket(self._session, HOUR_SECONDS).label("hour")

        async def grouped(column: Any, limit: int | None = None) -> list[tuple[Any, int]]:
            query = select(column, count).where(*where).group_by(column)
            query = query.order_by(count.desc(), column)
            rows = await self._session.execute(query if limit is None else query.limit(limit))
            return [(row[0], int(row[1])) for row in rows]

        return SummaryCounts(
            total=await self.count_events(filters),
            by_action=await grouped(AuditEvent.action, SUMMARY_GROUP_LIMIT),
            by_actor=await grouped(AuditEvent.actor_id, SUMMARY_GROUP_LIMIT),
            by_outcome=await grouped(AuditEvent.outcome),
            by_hour={int(index): n for index, n in await grouped(hour)},
        )

    async def suspicious_candidates(
        self, filters: AuditFilters, *, limit: int
    ) -> list[ActivityEvent]:
        """Failed sign-ins, record reads, exports and refusals, oldest first, at most `limit`."""
        candidate = or_(
            and_(AuditEvent.action.in_(LOGIN_ACTIONS), AuditEvent.outcome == "denied"),
            and_(
                AuditEvent.action.like("%.read"),
                AuditEvent.outcome == "success",
                AuditEvent.actor_id.is_not(None),
                AuditEvent.resource_id.is_not(None),
            ),
            and_(AuditEvent.action.like("%export%"), AuditEvent.outcome == "success"),
            AuditEvent.status_code.in_(sorted(DENIED_STATUSES)),
        )
        query = (
            select(
                AuditEvent.occurred_at,
                AuditEvent.action,
                AuditEvent.outcome,
                AuditEvent.status_code,
                AuditEvent.actor_id,
                AuditEvent.client_ip,
                AuditEvent.resource_type,
                AuditEvent.resource_id,
                AuditEvent.detail,
            )
            .where(*_conditions(filters), candidate)
            .order_by(AuditEvent.occurred_at, AuditEvent.seq)
            .limit(limit)
        )
        return [ActivityEvent(*row) for row in await self._session.execute(query)]

    async def activity_by_quarter_hour(self, filters: AuditFilters) -> list[ActivityBucket]:
        """Each actor's request count, first and last time per UTC quarter hour (and roles)."""
        bucket = _epoch_bucket(self._session, QUARTER_HOUR_SECONDS).label("bucket")
        query = (
            select(
                AuditEvent.actor_id,
                AuditEvent.actor_roles,
                bucket,
                func.count(),
                func.min(AuditEvent.occurred_at),
                func.max(AuditEvent.occurred_at),
            )
            .where(*_conditions(filters), AuditEvent.actor_id.is_not(None))
            .group_by(AuditEvent.actor_id, AuditEvent.actor_roles, bucket)
        )
        rows = await self._session.execute(query)
        return [
            ActivityBucket(
                actor_id=actor, count=int(n), first_at=first, last_at=last, roles=roles or ""
            )
            for actor, roles, _, n, first, last in rows
            if actor is not None
        ]


_INSERT_EVENT = insert(AuditEvent.metadata.tables[AuditEvent.__tablename__])


async def insert_event(session: AsyncSession, values: dict[str, Any]) -> None:
    """One new event as a plain INSERT: the row is never read back in its request, so
    the ORM unit of work (identity map, instance state, flush plan) is pure overhead."""
    await session.execute(_INSERT_EVENT, values)


async def insert_events(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Many new events in one statement (executemany, batched into multi-row VALUES)."""
    await session.execute(_INSERT_EVENT, list(rows))


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


_EVENTS = typing.cast(Table, AuditEvent.__table__)


async def unchained_rows(
    session: AsyncSession, *, fields: Sequence[str], limit: int
) -> Sequence[Row[Any]]:
    """Events not linked yet, in sequence order: seq, mac and `fields` (what the MAC
    covers), as plain rows, so the chainer loads no mapped objects and tracks no changes."""
    columns = [_EVENTS.c.seq, _EVENTS.c.mac, *(_EVENTS.c[name] for name in fields)]
    result = await session.execute(
        select(*columns).where(AuditEvent.chain_seq.is_(None)).order_by(AuditEvent.seq).limit(limit)
    )
    return result.all()


async def link_events(session: AsyncSession, links: Sequence[tuple[int, int, str]]) -> None:
    """Give each event (seq) its chain position and hash, in one executemany."""
    await session.execute(
        update(_EVENTS)
        .where(_EVENTS.c.seq == bindparam("link_seq"))
        .values(chain_seq=bindparam("link_position"), chain_hash=bindparam("link_hash")),
        [
            {"link_seq": seq, "link_position": position, "link_hash": chain_hash}
            for seq, position, chain_hash in links
        ],
    )


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
