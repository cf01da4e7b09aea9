"""HTTP routes of in-app notifications: the signed-in user's own, newest first."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from clinvault.deps import PrincipalDep, SessionDep
from clinvault.inputs import Limit, Offset
from clinvault.notifications.schemas import MarkedRead, NotificationList, NotificationRead
from clinvault.notifications.service import NotificationService

router = APIRouter(prefix="/api/notifications", tags=["notifications"])


@router.get("", name="notifications.list")
async def list_notifications(
    principal: PrincipalDep,
    session: SessionDep,
    unread_only: bool = False,
    limit: Annotated[Limit, Query(description="Page size")] = 50,
    offset: Annotated[Offset, Query(description="Items to skip")] = 0,
) -> NotificationList:
    """Your notifications, newest first, with the count of unread ones."""
    return await NotificationService(session).list_own(
        principal, unread_only=unread_only, limit=limit, offset=offset
    )


@router.post("/read-all", name="notifications.read_all")
async def mark_all_read(principal: PrincipalDep, session: SessionDep) -> MarkedRead:
    return await NotificationService(session).mark_all_read(principal)


@router.post("/{notification_id}/read", name="notifications.read")
async def mark_read(
    notification_id: uuid.UUID, principal: PrincipalDep, session: SessionDep
) -> NotificationRead:
    return await NotificationService(session).mark_read(principal, notification_id)
