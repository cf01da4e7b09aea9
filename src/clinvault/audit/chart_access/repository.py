"""The SQL of the chart access report: events naming the chart's resources, tenant-scoped."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.models.audit import AuditEvent
from clinvault.models.identity import Organization, User

AccessRow = tuple[AuditEvent, str | None, str | None]


class ChartAccessRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def _where(
        self,
        *,
        tenant: uuid.UUID,
        resources: Mapping[str, Sequence[str]],
        other_than: uuid.UUID,
        since: datetime | None,
    ) -> list[ColumnElement[bool]]:
        named = [
            and_(AuditEvent.resource_type == kind, AuditEvent.resource_id.in_(list(ids)))
            for kind, ids in resources.items()
            if ids
        ]
        conditions: list[ColumnElement[bool]] = [
            AuditEvent.organization_id == tenant,
            AuditEvent.actor_id.is_not(None),
            AuditEvent.actor_id != other_than,
            or_(*named) if named else false(),
        ]
        if since is not None:
            conditions.append(AuditEvent.occurred_at >= since)
        return conditions

    async def accesses(
        self,
        *,
        tenant: uuid.UUID,
        resources: Mapping[str, Sequence[str]],
        other_than: uuid.UUID,
        since: datetime | None,
        limit: int,
        offset: int,
    ) -> tuple[list[AccessRow], int]:
        """Events on the resources by anyone but `other_than`, newest first, with the
        actor's display name and the organization's name; and how many there are."""
        where = self._where(tenant=tenant, resources=resources, other_than=other_than, since=since)
        query = (
            select(AuditEvent, User.display_name, Organization.name)
            .outerjoin(User, User.id == AuditEvent.actor_id)
            .outerjoin(Organization, Organization.id == AuditEvent.organization_id)
            .where(*where)
            .order_by(AuditEvent.occurred_at.desc(), AuditEvent.seq.desc())
            .limit(limit)
            .offset(offset)
        )
        rows: list[AccessRow] = [
            (row[0], row[1], row[2]) for row in (await self._session.execute(query)).all()
        ]
        count = select(func.count()).select_from(AuditEvent).where(*where)
        total = int(await self._session.scalar(count) or 0)
        return rows, total
