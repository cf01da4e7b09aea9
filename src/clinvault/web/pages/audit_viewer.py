"""The audit-log viewer: filters, a page of events, activity per hour as bars, findings.

The chart is server-rendered SVG (no script): one bar per UTC hour of the
summary's window, scaled to the busiest hour.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, get_args

from fastapi import Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.audit.schemas import AuditFilters, HourCount, Outcome
from clinvault.audit.service import AuditService, audit_read_scope
from clinvault.bootstrap import Container
from clinvault.deps import ContainerDep, SessionDep
from clinvault.errors import AppError
from clinvault.identity import policies
from clinvault.identity.principal import Principal
from clinvault.identity.users_service import UserService
from clinvault.web.pages.common import portal_router
from clinvault.web.pages.patients import page_count
from clinvault.web.render import render
from clinvault.web.session import PortalPrincipal

router = portal_router()

PAGE_SIZE = 50
CHART_WIDTH = 720
CHART_HEIGHT = 120
OUTCOMES: tuple[str, ...] = get_args(Outcome)
MEMBER_LIMIT = 200


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str


def activity_bars(hours: list[HourCount]) -> list[Bar]:
    """One bar per hour, the busiest reaching the top of the chart."""
    if not hours:
        return []
    peak = max(hour.count for hour in hours) or 1
    slot = CHART_WIDTH / len(hours)
    bars = []
    for index, hour in enumerate(hours):
        height = round(CHART_HEIGHT * hour.count / peak, 2)
        noun = "event" if hour.count == 1 else "events"
        bars.append(
            Bar(
                x=round(index * slot, 2),
                y=round(CHART_HEIGHT - height, 2),
                width=round(max(slot * 0.8, 0.5), 2),
                height=height,
                label=f"{hour.hour.strftime('%d %b %H:00')} UTC: {hour.count} {noun}",
            )
        )
    return bars


def _day_start(text: str, *, end: bool) -> tuple[datetime | None, str | None]:
    """A YYYY-MM-DD filter as a UTC instant; `end` makes it the next midnight (inclusive day)."""
    if not text:
        return None, None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None, "Enter the date as YYYY-MM-DD."
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return (start + timedelta(days=1) if end else start), None


def _actor(text: str) -> tuple[uuid.UUID | None, str | None]:
    if not text:
        return None, None
    try:
        return uuid.UUID(text), None
    except ValueError:
        return None, "Enter an account id (a UUID, as shown in the Actor column)."


def _outcome(text: str) -> Outcome | None:
    for value in get_args(Outcome):
        if value == text:
            chosen: Outcome = value
            return chosen
    return None


async def _member_names(
    session: AsyncSession, container: Container, principal: Principal
) -> dict[uuid.UUID, str]:
    page = await UserService(session, container).list_users(principal, limit=MEMBER_LIMIT)
    return {user.id: user.display_name or user.email for user in page.items}


@router.get("/audit", name="portal.audit.logs")
async def audit_log(
    request: Request,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
    action: str = "",
    outcome: str = "",
    actor: str = "",
    since: str = "",
    until: str = "",
    resource_type: str = "",
    resource_id: str = "",
    page: int = 1,
) -> Response:
    audit_read_scope(principal, None)  # refuse anyone who may not read the log, before all else
    form = {
        "action": action.strip()[:100],
        "outcome": outcome if outcome in OUTCOMES else "",
        "actor": actor.strip()[:64],
        "since": since.strip()[:10],
        "until": until.strip()[:10],
        "resource_type": resource_type.strip()[:64],
        "resource_id": resource_id.strip()[:64],
    }
    errors: dict[str, str] = {}
    start, problem = _day_start(form["since"], end=False)
    if problem:
        errors["since"] = problem
    stop, problem = _day_start(form["until"], end=True)
    if problem:
        errors["until"] = problem
    actor_id, problem = _actor(form["actor"])
    if problem:
        errors["actor"] = problem
    if start is not None and stop is not None and start >= stop:
        errors["until"] = "The end date must be on or after the start date."
    service = AuditService(session, container)
    page = min(max(page, 1), 100_000)
    values: dict[str, Any] = {
        "form": form,
        "errors": errors,
        "outcomes": OUTCOMES,
        "events": None,
        "summary": None,
        "summary_error": None,
        "findings": None,
        "bars": [],
        "names": {},
        "page": page,
        "pages": 1,
        "params": form,
        "chart_width": CHART_WIDTH,
        "chart_height": CHART_HEIGHT,
    }
    if not errors:
        filters = AuditFilters(
            actor_id=actor_id,
            action_prefix=form["action"] or None,
            outcome=_outcome(form["outcome"]),
            resource_type=form["resource_type"] or None,
            resource_id=form["resource_id"] or None,
            since=start,
            until=stop,
        )
        events = await service.list_events(
            principal, filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
        )
        values.update(events=events, pages=page_count(events.total, PAGE_SIZE))
        try:
            summary = await service.summary(principal, start=start, end=stop)
            report = await service.suspicious(principal, start=start, end=stop)
        except AppError as error:
            values["summary_error"] = error.detail
        else:
            values.update(
                summary=summary, bars=activity_bars(summary.per_hour), findings=report.findings
            )
        if policies.can_list_users(principal, principal.organization_id):
            values["names"] = await _member_names(session, container, principal)
    context.describe_resource("audit_log")
    status_code = 400 if errors else 200
    return render(request, "audit_log.html", values, principal=principal, status_code=status_code)
