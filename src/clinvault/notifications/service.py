"""In-app notifications: `notify` for other features, reading for their recipients.

Titles and bodies are shown in the portal's notification list and must stay
free of PHI, like emails: say what happened and link to the signed-in page.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.errors import NotificationNotFound
from clinvault.identity.principal import Principal
from clinvault.models.notifications import Notification
from clinvault.notifications.repository import NotificationRepository
from clinvault.notifications.schemas import MarkedRead, NotificationList, NotificationRead
from clinvault.timeutil import utcnow


async def notify(
    session: AsyncSession,
    *,
    organization_id: uuid.UUID,
    user_ids: Iterable[uuid.UUID],
    kind: str,
    title: str,
    body: str,
    link: str | None,
    dedupe_key: str,
) -> int:
    """Add one notification per user inside the caller's transaction; return how many.

    `dedupe_key` makes a repeated call (a retried workflow step) add nothing:
    each user receives one notification per key.
    """
    repository = NotificationRepository(session)
    added = 0
    for user_id in dict.fromkeys(user_ids):
        if await repository.exists_for(user_id, dedupe_key):
            continue
        await repository.add(
            Notification(
                organization_id=organization_id,
                user_id=user_id,
                kind=kind,
                title=title[:200],
                body=body[:1000],
                link=link,
                dedupe_key=dedupe_key[:200],
            )
        )
        added += 1
    return added


def _read(row: Notification) -> NotificationRead:
    return NotificationRead(
        id=row.id,
        kind=row.kind,
        title=row.title,
        body=row.body,
        link=row.link,
        created_at=row.created_at,
        read_at=row.read_at,
    )


class NotificationService:
    def __init__(self, session: AsyncSession) -> None:
        self.repository = NotificationRepository(session)

    async def list_own(
        self, principal: Principal, *, unread_only: bool, limit: int, offset: int
    ) -> NotificationList:
        context.describe_resource("notification")
        tenant = principal.organization_id
        rows = await self.repository.for_user(
            principal.user_id, tenant=tenant, unread_only=unread_only, limit=limit, offset=offset
        )
        unread = await self.repository.unread_count(principal.user_id, tenant=tenant)
        return NotificationList(items=[_read(row) for row in rows], unread=unread)

    async def mark_read(self, principal: Principal, notification_id: uuid.UUID) -> NotificationRead:
        context.describe_resource("notification", notification_id)
        row = await self.repository.one(
            notification_id, principal.user_id, tenant=principal.organization_id
        )
        if row is None:
            raise NotificationNotFound(
                "No such notification among yours: list them with GET /api/notifications."
            )
        if row.read_at is None:
            row.read_at = utcnow()
        return _read(row)

    async def mark_all_read(self, principal: Principal) -> MarkedRead:
        context.describe_resource("notification")
        marked = await self.repository.mark_all_read(
            principal.user_id, tenant=principal.organization_id, now=utcnow()
        )
        return MarkedRead(marked=marked)
