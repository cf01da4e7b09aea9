"""One care plan: goals, activities, the sanitized body, versions, comments, shares.

What the reader may do decides which forms are shown: the owning
organization's clinicians hold the plan at `edit` (and manage its shares),
another organization's clinicians at the level of their share, a patient
reads it only. A refused action shows the page again with the message next to
its form and the typed text kept.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Query, Request, Response
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.bootstrap import Container
from clinvault.careplans import access, policies
from clinvault.careplans.comments import CommentService
from clinvault.careplans.schemas import CarePlanRead, CommentRead, ShareRead
from clinvault.careplans.service import CarePlanService
from clinvault.careplans.shares import ShareService
from clinvault.deps import ContainerDep, SessionDep
from clinvault.errors import AppError
from clinvault.identity.principal import Principal
from clinvault.records.patients.service import PatientService
from clinvault.web.pages.appointments import people_names
from clinvault.web.pages.careplans import diffview
from clinvault.web.pages.careplans.forms import ACTIVITY_LABELS, STATUS_LABELS
from clinvault.web.pages.common import discard_changes, portal_router
from clinvault.web.render import render
from clinvault.web.session import PortalPrincipal

router = portal_router()

NOTICES = {
    "created": "Care plan saved as version 1.",
    "saved": "Saved as a new version.",
    "restored": "Restored: the old content is now the newest version.",
    "accepted": "Share accepted: the plan is now in your list.",
    "commented": "Comment added.",
    "resolved": "Thread resolved.",
    "reopened": "Thread reopened.",
    "watching": "You are watching this plan: you are told of new versions, comments and shares.",
    "unwatched": "You stopped watching this plan.",
    "shared": "Shared. A share to another organization shows in their list once accepted.",
    "revoked": "Share revoked: it ends with the next request.",
    "extended": "The share's last day was changed.",
}
LEVEL_LABELS = {"view": "View", "comment": "Comment", "edit": "Edit"}
STATE_LABELS = {"pending": "Waiting for acceptance", "live": "Live", "expired": "Expired"}
STATE_LABELS["revoked"] = "Revoked"


async def level_of(
    session: AsyncSession, container: Container, principal: Principal, plan: CarePlanRead
) -> str:
    """The level the reader holds: edit for the owning organization, else the share's."""
    if plan.organization_id == principal.organization_id:
        return "edit"
    shares = await ShareService(session, container).incoming(principal)
    levels = [s.level.value for s in shares if s.plan_id == plan.id and s.state == "live"]
    return max(levels, key=access.rank) if levels else "view"


def last_day(expires_at: datetime) -> str:
    """A share ends at the start of the day after its last day: that last day."""
    return (expires_at - timedelta(seconds=1)).date().strftime("%d %b %Y")


def anchor_label(plan: CarePlanRead, anchor: str | None) -> str:
    if anchor is None:
        return ""
    kind, _, index = anchor.partition(":")
    items = plan.goals if kind == "goal" else [a.what for a in plan.activities]
    position = int(index) if index.isdigit() else len(items)
    text = items[position] if position < len(items) else "(no longer in the plan)"
    return f"{'Goal' if kind == 'goal' else 'Activity'} {position + 1}: {text}"


async def detail_page(
    request: Request,
    session: AsyncSession,
    container: Container,
    principal: Principal,
    plan_id: uuid.UUID,
    *,
    notice: str | None = None,
    failed: str | None = None,
    error: str | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    service = CarePlanService(session, container)
    plan = await service.get(principal, plan_id)
    patient = policies.acts_as_patient(principal)
    own = plan.organization_id == principal.organization_id
    level = "view" if patient else await level_of(session, container, principal, plan)
    threads: list[CommentRead] = []
    shares: list[ShareRead] = []
    versions = []
    watching = False
    if not patient:
        watching = await service.watching(principal, plan.id)
        versions = await service.versions(principal, plan.id)
        threads = await CommentService(session, container).threads(principal, plan.id)
        if own:
            shares = [
                s
                for s in await ShareService(session, container).of_plan(principal, plan.id)
                if s.state in ("pending", "live")
            ]
    colleagues: list[tuple[str, str]] = []
    if access.rank(level) >= access.rank("comment") and not patient:
        names = await people_names(session, container, principal)
        colleagues = sorted(
            ((str(uid), name) for uid, name in names.items() if uid != principal.user_id),
            key=lambda item: item[1].casefold(),
        )
    patient_name = ""
    if own and not patient:
        found = await PatientService(session, container).lookup(principal, plan.patient_id)
        patient_name = f"{found.first_name} {found.last_name}" if found else ""
    data: dict[str, Any] = {
        "plan": plan,
        # Rendered with raw HTML off and cleaned by nh3 (careplans.content.render_markdown).
        "body_html": Markup(plan.body_html),  # noqa: S704
        "is_patient": patient,
        "own": own,
        "level": level,
        "can_edit": level == "edit",
        "can_comment": access.rank(level) >= access.rank("comment"),
        "versions": list(reversed(versions)),
        "threads": threads,
        "shares": shares,
        "patient_name": patient_name,
        "colleagues": colleagues,
        "watching": watching,
        "anchor_label": lambda anchor: anchor_label(plan, anchor),
        "notice": notice,
        "failed": failed,
        "error": error,
        "values": values or {},
        "status_labels": STATUS_LABELS,
        "activity_labels": ACTIVITY_LABELS,
        "level_labels": LEVEL_LABELS,
        "state_labels": STATE_LABELS,
        "last_day": last_day,
        "levels": [name for name in access.LEVELS if access.rank(name) <= access.rank(level)],
    }
    return render(request, "cp_detail.html", data, principal=principal, status_code=status_code)


@router.get("/care-plans/{plan_id:uuid}", name="portal.cp.read")
async def read_plan(
    request: Request,
    plan_id: uuid.UUID,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
    notice: str = "",
) -> Response:
    return await detail_page(
        request, session, container, principal, plan_id, notice=NOTICES.get(notice)
    )


async def refused(
    request: Request,
    session: AsyncSession,
    container: Container,
    principal: Principal,
    plan_id: uuid.UUID,
    problem: AppError,
    failed: str,
    values: dict[str, str],
) -> Response:
    """The page again, the refusal next to the form `failed`; a 404 stays a 404."""
    if problem.status == 404 and failed not in ("share", "comment"):
        raise problem
    await discard_changes(session)
    return await detail_page(
        request, session, container, principal, plan_id,
        failed=failed, error=problem.detail, values=values, status_code=problem.status,
    )  # fmt: skip


@router.get("/care-plans/{plan_id:uuid}/diff", name="portal.cp.diff")
async def diff_page(
    request: Request,
    plan_id: uuid.UUID,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
    from_version: Annotated[int, Query(alias="from")] = 0,
    to_version: Annotated[int, Query(alias="to")] = 0,
) -> Response:
    service = CarePlanService(session, container)
    plan = await service.get(principal, plan_id)
    newest = plan.version
    to_number = to_version if 1 <= to_version <= newest else newest
    from_number = from_version if 1 <= from_version <= newest else max(to_number - 1, 1)
    diff = await service.diff(principal, plan.id, from_number, to_number)
    versions = await service.versions(principal, plan.id)
    data: dict[str, Any] = {
        "plan": plan,
        "diff": diff,
        "rows": diffview.side_by_side(diff.body_diff),
        "changes": [diffview.change_row(change) for change in diff.changes],
        "versions": versions,
        "from_number": from_number,
        "to_number": to_number,
    }
    return render(request, "cp_diff.html", data, principal=principal)
