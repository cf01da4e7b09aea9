"""The access report of one chart: who (name, role, organization) did what, and when.

HIPAA lets a patient ask who accessed their record. The records feature
decides that the principal is the chart's patient and names the chart's
resources (the patient, its medical records, its appointments); this service
reads the matching events of the principal's own organization only, leaving
out the patient's own requests. Names come from the accounts (an account
without a display name, or deleted, is "A staff member").
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.audit.chart_access.repository import ChartAccessRepository
from clinvault.identity.principal import Principal

MAX_LIMIT = 200
ROLE_WORDS = {
    "org_admin": "Administrator",
    "doctor": "Doctor",
    "nurse": "Nurse",
    "clerk": "Front desk",
    "credentialing_reviewer": "Credentialing reviewer",
    "pharmacist": "Pharmacist",
    "patient": "Patient",
    "admin": "Platform administrator",
}
ACTION_WORDS = {
    "portal.patient.read": "Opened your chart",
    "portal.my_chart.read": "Opened your chart",
    "records.patient.read": "Read your details",
    "records.patient.update": "Changed your details",
    "portal.patient.update": "Changed your details",
    "records.patient.link_user": "Linked your account to your chart",
    "records.record.read": "Read a medical record",
    "records.record.create": "Added a medical record",
    "portal.record.create": "Added a medical record",
    "records.record.amend": "Amended a medical record",
    "records.record.list": "Listed your medical records",
    "records.appointment.read": "Looked at an appointment",
    "records.appointment.book": "Booked an appointment",
    "portal.appointment.book": "Booked an appointment",
    "records.appointment.reschedule": "Rescheduled an appointment",
    "records.appointment.cancel": "Cancelled an appointment",
    "portal.appointment.cancel": "Cancelled an appointment",
    "records.appointment.confirm": "Confirmed your appointment request",
    "portal.appointment.confirm": "Confirmed your appointment request",
    "records.appointment.decline": "Declined your appointment request",
    "portal.appointment.decline": "Declined your appointment request",
}
OUTCOME_WORDS = {"success": "", "denied": " (refused)", "failure": " (failed)", "error": " (error)"}


@dataclass(frozen=True, slots=True)
class ChartAccess:
    occurred_at: datetime
    actor_id: uuid.UUID
    name: str
    roles: str
    organization: str
    action: str
    what: str
    outcome: str


@dataclass(frozen=True, slots=True)
class ChartAccessPage:
    items: list[ChartAccess]
    total: int
    limit: int
    offset: int


def action_words(action: str, outcome: str) -> str:
    words = ACTION_WORDS.get(action)
    if words is None:
        words = (
            "Viewed or changed your chart" if action.startswith(("records.", "portal.")) else action
        )
    return words + OUTCOME_WORDS.get(outcome, "")


class ChartAccessService:
    def __init__(self, session: AsyncSession) -> None:
        self._events = ChartAccessRepository(session)

    async def for_patient_chart(
        self,
        principal: Principal,
        resources: Mapping[str, Sequence[str]],
        *,
        since: datetime | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> ChartAccessPage:
        """Events on `resources` in the principal's organization by anyone else.

        The caller has decided that the principal is the patient of these
        resources (records.export.access); nothing of another tenant is read.
        """
        limit = max(1, min(limit, MAX_LIMIT))
        offset = max(0, offset)
        rows, total = await self._events.accesses(
            tenant=principal.organization_id,
            resources=resources,
            other_than=principal.user_id,
            since=since,
            limit=limit,
            offset=offset,
        )
        items = []
        for event, name, organization in rows:
            assert event.actor_id is not None
            roles = [ROLE_WORDS.get(r, r) for r in event.actor_roles.split(",") if r]
            items.append(
                ChartAccess(
                    occurred_at=event.occurred_at,
                    actor_id=event.actor_id,
                    name=name or "A staff member",
                    roles=", ".join(roles) or "—",
                    organization=organization or "—",
                    action=event.action,
                    what=action_words(event.action, event.outcome),
                    outcome=event.outcome,
                )
            )
        return ChartAccessPage(items=items, total=total, limit=limit, offset=offset)
