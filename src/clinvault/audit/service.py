"""Reading the audit log: who may see which organization's events."""

from __future__ import annotations

import dataclasses
import uuid
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.audit.repository import AuditRepository
from clinvault.audit.schemas import AuditEventPage, AuditEventRead, AuditFilters
from clinvault.context import describe_resource
from clinvault.errors import NotFound, PermissionDenied
from clinvault.identity.principal import Principal, Role

if TYPE_CHECKING:
    from clinvault.bootstrap import Container

MAX_PAGE = 500


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
