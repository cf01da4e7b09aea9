"""Reading the audit log: who may see which organization's events."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.audit.repository import AuditRepository
from clinvault.audit.schemas import (
    ActionCount,
    ActorCount,
    AuditEventPage,
    AuditEventRead,
    AuditFilters,
    AuditSummary,
    HourCount,
    OutcomeCount,
    SuspiciousFinding,
    SuspiciousReport,
)
from clinvault.audit.summary import hourly_series, resolve_window
from clinvault.audit.suspicious import detect
from clinvault.context import describe_resource
from clinvault.errors import NotFound, PermissionDenied
from clinvault.identity.principal import Principal, Role
from clinvault.timeutil import utcnow

if TYPE_CHECKING:
    from clinvault.bootstrap import Container

MAX_PAGE = 500
# Candidate events examined per suspicious-activity request; beyond it the report says so.
MAX_CANDIDATES = 100_000


def audit_read_scope(principal: Principal, requested: uuid.UUID | None) -> uuid.UUID | None:
    """The organization whose events the principal may list; None means every one.

    Platform administrators read every organization's events and may narrow
    to one; organization administrators read their own organization's only,
    and another organization is unknown to them (404). Everyone else is refused.
    """
    if principal.is_platform_admin:
        return requested
    if principal.has(Role.ORG_ADMIN):
        if requested is not None and requested != principal.organization_id:
            raise NotFound("No organization with this id: check organization_id, or omit it.")
        return principal.organization_id
    raise PermissionDenied(
        "Reading the audit log requires the org_admin role (or platform administrator)."
    )


class AuditService:
    def __init__(self, session: AsyncSession, container: Container) -> None:
        self._session = session
        self._container = container
        self._events = AuditRepository(session)

    async def list_events(
        self, principal: Principal, filters: AuditFilters, *, limit: int = 50, offset: int = 0
    ) -> AuditEventPage:
        """One page of matching events, newest first."""
        describe_resource("audit_log")
        scope = audit_read_scope(principal, filters.organization_id)
        scoped = dataclasses.replace(filters, organization_id=scope)
        limit = max(1, min(limit, MAX_PAGE))
        offset = max(0, offset)
        events = await self._events.list_events(scoped, limit=limit, offset=offset)
        total = await self._events.count_events(scoped)
        return AuditEventPage(
            items=[AuditEventRead.model_validate(event) for event in events],
            total=total,
            limit=limit,
            offset=offset,
        )

    async def summary(
        self,
        principal: Principal,
        *,
        organization_id: uuid.UUID | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> AuditSummary:
        """Counts by action, actor, outcome and hour over [start, end) (default: last 24 h)."""
        describe_resource("audit_summary")
        scope = audit_read_scope(principal, organization_id)
        window = resolve_window(start, end, utcnow())
        filters = AuditFilters(organization_id=scope, since=window.start, until=window.end)
        counts = await self._events.summary_counts(filters)
        return AuditSummary(
            organization_id=scope,
            start=window.start,
            end=window.end,
            total=counts.total,
            by_action=[ActionCount(action=a, count=n) for a, n in counts.by_action],
            by_actor=[ActorCount(actor_id=a, count=n) for a, n in counts.by_actor],
            by_outcome=[
                OutcomeCount.model_validate({"outcome": o, "count": n})
                for o, n in counts.by_outcome
            ],
            per_hour=[HourCount(hour=h, count=n) for h, n in hourly_series(window, counts.by_hour)],
        )

    async def suspicious(
        self,
        principal: Principal,
        *,
        organization_id: uuid.UUID | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> SuspiciousReport:
        """Findings over [start, end) (default: last 24 h) under the configured thresholds."""
        describe_resource("audit_suspicious")
        scope = audit_read_scope(principal, organization_id)
        window = resolve_window(start, end, utcnow())
        filters = AuditFilters(organization_id=scope, since=window.start, until=window.end)
        candidates = await self._events.suspicious_candidates(filters, limit=MAX_CANDIDATES + 1)
        truncated = len(candidates) > MAX_CANDIDATES
        buckets = await self._events.activity_by_quarter_hour(filters)
        findings = detect(candidates[:MAX_CANDIDATES], buckets, self._container.settings.audit)
        return SuspiciousReport(
            organization_id=scope,
            start=window.start,
            end=window.end,
            findings=[SuspiciousFinding.model_validate(f, from_attributes=True) for f in findings],
            truncated=truncated,
        )
