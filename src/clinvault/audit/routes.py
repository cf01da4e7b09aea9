"""HTTP: GET /api/audit/logs, /api/audit/summary and /api/audit/suspicious."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from clinvault.audit.schemas import (
    AuditEventPage,
    AuditFilters,
    AuditSummary,
    Outcome,
    SuspiciousReport,
)
from clinvault.audit.service import MAX_PAGE, AuditService
from clinvault.deps import ContainerDep, PrincipalDep, SessionDep
from clinvault.errors import RequestInvalid
from clinvault.inputs import Offset, SingleLine

router = APIRouter(prefix="/api/audit", tags=["audit"])

DATE_FORMAT = "a timezone-aware ISO 8601 date-time such as 2024-05-01T00:00:00Z"
_DATE_DOC = f"Events at or after (since) / before (until) this instant: {DATE_FORMAT}."


def parse_instant(name: str, value: str | None) -> datetime | None:
    """An aware datetime from a query value, or a 422 that says the expected format."""
    if value is None:
        return None
    problem = f"{name} must be {DATE_FORMAT}"
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None or parsed.utcoffset() is None:
        reason = "no time zone was given" if parsed is not None else f"{value!r} is not a date"
        raise RequestInvalid(
            f"{problem} ({reason}).",
            errors=[{"field": name, "in": "query", "message": problem, "type": "datetime"}],
        )
    return parsed


@router.get("/logs", name="audit.logs.list", response_model=AuditEventPage)
async def list_audit_logs(
    session: SessionDep,
    principal: PrincipalDep,
    container: ContainerDep,
    actor_id: uuid.UUID | None = None,
    action: Annotated[
        Annotated[str, SingleLine(100)] | None,
        Query(description="Action name prefix, e.g. 'auth.'"),
    ] = None,
    outcome: Outcome | None = None,
    resource_type: Annotated[str, SingleLine(64)] | None = None,
    resource_id: Annotated[str, SingleLine(64)] | None = None,
    status_code: Annotated[int | None, Query(ge=100, le=599)] = None,
    organization_id: Annotated[
        uuid.UUID | None, Query(description="Platform administrators only: one organization.")
    ] = None,
    since: Annotated[str | None, Query(description=_DATE_DOC, max_length=64)] = None,
    until: Annotated[str | None, Query(description=_DATE_DOC, max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[Offset, Query(description="Events to skip")] = 0,
) -> AuditEventPage:
    """Audit events, newest first, for the caller's organization (or all, for a platform admin)."""
    start = parse_instant("since", since)
    end = parse_instant("until", until)
    if start is not None and end is not None and start >= end:
        raise RequestInvalid(
            "since must be earlier than until.",
            errors=[
                {
                    "field": "since",
                    "in": "query",
                    "message": "must be before until",
                    "type": "datetime",
                }
            ],
        )
    filters = AuditFilters(
        organization_id=organization_id,
        actor_id=actor_id,
        action_prefix=action,
        outcome=outcome,
        resource_type=resource_type,
        resource_id=resource_id,
        status_code=status_code,
        since=start,
        until=end,
    )
    return await AuditService(session, container).list_events(
        principal, filters, limit=limit, offset=offset
    )


_WINDOW_DOC = (
    f"The window is [from, to): {DATE_FORMAT}. to defaults to now and from to 24 hours "
    "before to; the window may span at most 31 days."
)
From = Annotated[
    str | None, Query(alias="from", max_length=64, description="Window start. " + _WINDOW_DOC)
]
To = Annotated[str | None, Query(alias="to", max_length=64, description="Window end.")]
Organization = Annotated[
    uuid.UUID | None, Query(description="Platform administrators only: one organization.")
]


@router.get("/summary", name="audit.summary", response_model=AuditSummary)
async def audit_summary(
    session: SessionDep,
    principal: PrincipalDep,
    container: ContainerDep,
    start: From = None,
    end: To = None,
    organization_id: Organization = None,
) -> AuditSummary:
    """Counts by action, by actor, by outcome and per hour over a window (default: 24 hours)."""
    return await AuditService(session, container).summary(
        principal,
        organization_id=organization_id,
        start=parse_instant("from", start),
        end=parse_instant("to", end),
    )


@router.get("/suspicious", name="audit.suspicious", response_model=SuspiciousReport)
async def audit_suspicious(
    session: SessionDep,
    principal: PrincipalDep,
    container: ContainerDep,
    start: From = None,
    end: To = None,
    organization_id: Organization = None,
) -> SuspiciousReport:
    """Failed sign-in bursts, mass reads, exports, refusal bursts and off-hours activity."""
    return await AuditService(session, container).suspicious(
        principal,
        organization_id=organization_id,
        start=parse_instant("from", start),
        end=parse_instant("to", end),
    )
