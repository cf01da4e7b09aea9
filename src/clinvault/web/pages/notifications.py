"""The signed-in user's in-app notifications, and marking them read."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query, Request, Response

from clinvault.deps import SessionDep
from clinvault.notifications.service import NotificationService
from clinvault.web.pages.common import VerifiedForm, portal_router, see_other
from clinvault.web.render import render
from clinvault.web.session import PortalPrincipal, safe_next

router = portal_router()

PAGE_SIZE = 50


def local_link(link: str | None) -> str | None:
    """A notification's link, only when it stays on this site; a care plan's API link
    opens the plan's page."""
    if not link:
        return None
    if link.startswith("/api/care-plans/"):
        plan, _, rest = link.removeprefix("/api/care-plans/").partition("/")
        link = f"/care-plans/{plan}" + ("#comments" if rest == "comments" else "")
    target = safe_next(link)
    return target if target == link else None


@router.get("/notifications", name="portal.notifications")
async def notifications_page(
    request: Request,
    principal: PortalPrincipal,
    session: SessionDep,
    unread_only: bool = False,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    found = await NotificationService(session).list_own(
        principal, unread_only=unread_only, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    return render(
        request,
        "notifications.html",
        {
            "notifications": found.items,
            "unread": found.unread,
            "unread_only": unread_only,
            "local_link": local_link,
            "page": page,
            "has_more": len(found.items) == PAGE_SIZE,
        },
        principal=principal,
    )


@router.post("/notifications/read-all", name="portal.notifications.read_all")
async def read_all(form: VerifiedForm, principal: PortalPrincipal, session: SessionDep) -> Response:
    await NotificationService(session).mark_all_read(principal)
    return see_other("/notifications")


@router.post("/notifications/{notification_id}/read", name="portal.notifications.read")
async def read_one(
    notification_id: uuid.UUID, form: VerifiedForm, principal: PortalPrincipal, session: SessionDep
) -> Response:
    await NotificationService(session).mark_read(principal, notification_id)
    return see_other("/notifications")
