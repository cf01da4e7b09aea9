"""The audit-log viewer: filters, events in words, an activity chart with axes, findings.

The actor filter takes a member's name or email (an id still works): it is
resolved to accounts through the identity directory, and every match is
searched. Each event is told as a sentence from the wording table of
`clinvault.audit.wording`; no PHI value is ever shown, since events hold none.
The chart is server-rendered SVG (no script) with a table of the same numbers.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, get_args

from fastapi import Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.audit.describe import sentence
from clinvault.audit.schemas import (
    AuditEventPage,
    AuditFilters,
    Outcome,
    SuspiciousFinding,
)
from clinvault.audit.service import AuditService, audit_read_scope
from clinvault.bootstrap import Container
from clinvault.deps import ContainerDep, SessionDep
from clinvault.errors import AppError
from clinvault.identity.directory.service import DirectoryService, Member
from clinvault.identity.principal import Principal
from clinvault.web.pages.audit_chart import activity_chart
from clinvault.web.pages.common import portal_router
from clinvault.web.pages.patients import page_count
from clinvault.web.render import render
from clinvault.web.session import PortalPrincipal

router = portal_router()

PAGE_SIZE = 50
OUTCOMES: tuple[str, ...] = get_args(Outcome)
FINDING_TITLES = {
    "failed_logins_by_actor": "Failed sign-ins to one account",
    "failed_logins_by_ip": "Failed sign-ins from one address",
    "mass_reads": "Many records read",
    "exports": "Repeated exports",
    "denied_burst": "Many refused requests",
}


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


def _outcome(text: str) -> Outcome | None:
    for value in get_args(Outcome):
        if value == text:
            chosen: Outcome = value
            return chosen
    return None


async def _actors(
    directory: DirectoryService, principal: Principal, text: str
) -> tuple[tuple[uuid.UUID, ...] | None, list[Member], str | None]:
    """The accounts a typed name, email or id stands for, the members shown, or a problem."""
    if not text:
        return None, [], None
    try:
        return (uuid.UUID(text),), [], None
    except ValueError:
        pass
    try:
        members = await directory.find_members(principal, text)
    except AppError:
        return None, [], "Looking members up by name needs the right to list members."
    if not members:
        return None, [], f"No member's name or email contains “{text}”: check the spelling."
    return tuple(member.id for member in members), members, None


def _form(**values: str) -> dict[str, str]:
    return {
        "action": values["action"].strip()[:100],
        "outcome": values["outcome"] if values["outcome"] in OUTCOMES else "",
        "actor": " ".join(values["actor"].split())[:100],
        "since": values["since"].strip()[:10],
        "until": values["until"].strip()[:10],
        "resource_type": values["resource_type"].strip()[:64],
        "resource_id": values["resource_id"].strip()[:64],
    }


def _actor_ids(events: AuditEventPage | None, findings: list[SuspiciousFinding]) -> list[uuid.UUID]:
    found = [event.actor_id for event in events.items] if events else []
    found += [finding.actor_id for finding in findings]
    return [actor for actor in dict.fromkeys(found) if actor is not None]


async def _findings(
    service: AuditService, principal: Principal, start: datetime | None, stop: datetime | None
) -> dict[str, Any]:
    try:
        summary = await service.summary(principal, start=start, end=stop)
        report = await service.suspicious(principal, start=start, end=stop)
    except AppError as error:
        return {"summary_error": error.detail}
    outside = [f for f in report.findings if f.kind == "outside_hours"]
    others = [f for f in report.findings if f.kind != "outside_hours"]
    return {
        "summary": summary,
        "chart": activity_chart(summary.per_hour),
        "findings": others,
        "outside_hours": sorted(outside, key=lambda f: (str(f.actor_id), f.first_at)),
        "truncated": report.truncated,
    }


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
    form = _form(
        action=action,
        outcome=outcome,
        actor=actor,
        since=since,
        until=until,
        resource_type=resource_type,
        resource_id=resource_id,
    )
    errors: dict[str, str] = {}
    start, problem = _day_start(form["since"], end=False)
    if problem:
        errors["since"] = problem
    stop, problem = _day_start(form["until"], end=True)
    if problem:
        errors["until"] = problem
    if start is not None and stop is not None and start >= stop:
        errors["until"] = "The end date must be on or after the start date."
    directory = DirectoryService(session)
    actor_ids, members, problem = await _actors(directory, principal, form["actor"])
    if problem:
        errors["actor"] = problem
    page = min(max(page, 1), 100_000)
    values: dict[str, Any] = {
        "form": form,
        "errors": errors,
        "outcomes": OUTCOMES,
        "members": members,
        "events": None,
        "sentences": {},
        "summary": None,
        "summary_error": None,
        "chart": None,
        "findings": None,
        "outside_hours": [],
        "business_hours": "",
        "truncated": False,
        "finding_titles": FINDING_TITLES,
        "names": {},
        "page": page,
        "pages": 1,
        "params": form,
    }
    if not errors:
        filters = AuditFilters(
            actor_ids=actor_ids,
            action_prefix=form["action"] or None,
            outcome=_outcome(form["outcome"]),
            resource_type=form["resource_type"] or None,
            resource_id=form["resource_id"] or None,
            since=start,
            until=stop,
        )
        values.update(await _results(session, container, principal, filters, page))
    context.describe_resource("audit_log")
    status_code = 400 if errors else 200
    return render(request, "audit_log.html", values, principal=principal, status_code=status_code)


async def _results(
    session: AsyncSession,
    container: Container,
    principal: Principal,
    filters: AuditFilters,
    page: int,
) -> dict[str, Any]:
    """Events of the page in words, the chart and the findings over the filters' window."""
    service = AuditService(session, container)
    events = await service.list_events(
        principal, filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    values: dict[str, Any] = {"events": events, "pages": page_count(events.total, PAGE_SIZE)}
    values.update(await _findings(service, principal, filters.since, filters.until))
    hours = container.settings.audit
    values["business_hours"] = (
        f"{hours.business_hours_start:%H:%M} to {hours.business_hours_end:%H:%M} {hours.timezone}"
    )
    findings = values.get("findings") or []
    actors = _actor_ids(events, [*findings, *values.get("outside_hours", [])])
    names = await DirectoryService(session).names(principal, actors)
    values["names"] = names
    values["sentences"] = {event.id: sentence(event, names) for event in events.items}
    return values
