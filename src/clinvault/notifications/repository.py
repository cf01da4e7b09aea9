"""All SQL of in-app notifications; every query is scoped to its user and tenant."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, exists, func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.models.notifications import Notification


def unread_count_of(user_id: uuid.UUID, *, tenant: uuid.UUID) -> Select[int]:
    """The count of a user's unread notifications in their organization, as a statement."""
    return (
        select(func.count())
        .select_from(Notification)
        .where(
            Notification.user_id == user_id,
            Notification.organization_id == tenant,
            Notification.read_at.is_(None),
        )
    )


class NotificationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def exists_for(self, user_id: uuid.UUID, dedupe_key: str) -> bool:
        return bool(
            await self.session.scalar(
                select(
                    exists().where(
                        Notification.user_id == user_id, Notification.dedupe_key == dedupe_key
                    )
                )
            )
        )

    async def add(self, row: Notification) -> None:
        self.session.add(row)
        await self.session.flush()

    async def for_user(
        self, user_id: uuid.UUID, *, tenant: uuid.UUID, unread_only: bool, limit: int, offset: int
    ) -> Sequence[Notification]:
        query = select(Notification).where(
            Notification.user_id == user_id, Notification.organization_id == tenant
        )
        if unread_only:
            query = query.where(Notification.read_at.is_(None))
        query = query.order_by(Notification.created_at.desc(), Notification.id.desc())
        return (await self.session.scalars(query.limit(limit).offset(offset))).all()

    async def unread_count(self, user_id: uuid.UUID, *, tenant: uuid.UUID) -> int:
        return int(await self.session.scalar(unread_count_of(user_id, tenant=tenant)) or 0)

    async def one(
        self, notification_id: uuid.UUID, user_id: uuid.UUID, *, tenant: uuid.UUID
    ) -> Notification | None:
        result: Notification | None = await self.session.scalar(
            select(Notification).where(
                Notification.id == notification_id,
                Notification.user_id == user_id,
                Notification.organization_id == tenant,
            )
        )
        return result

    async def mark_all_read(self, user_id: uuid.UUID, *, tenant: uuid.UUID, now: datetime) -> int:
        result = await self.session.execute(
            update(Notification)
            .where(
                Notification.user_id == user_id,
                Notification.organization_id == tenant,
                Notification.read_at.is_(None),
            )
            .values(read_at=now)
        )
        assert isinstance(result, CursorResult)
        return int(result.rowcount)
