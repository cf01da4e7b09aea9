"""Staff moving or cancelling an appointment with a reason, and telling those concerned.

The reason is kept with the slot (encrypted, shown to staff). The patient (if
their account is linked) and the practitioner get an in-app notification and,
after commit, an email (workflows.py) that say only that an appointment
changed and where to look: no name, time or reason.
"""

from __future__ import annotations

import functools
import uuid

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.bootstrap import Container
from clinvault.db import after_commit
from clinvault.errors import AppointmentNotFound
from clinvault.identity.principal import Principal
from clinvault.models.records import Appointment
from clinvault.notifications.service import notify
from clinvault.records.appointments.repository import AppointmentRepository
from clinvault.records.appointments.schemas import CANCELLED, AppointmentRead, AppointmentUpdate
from clinvault.records.appointments.service import APPOINTMENT_NOT_FOUND, AppointmentService
from clinvault.records.appointments.workflows import start_mail
from clinvault.records.patients.service import PatientService

log = structlog.get_logger(__name__)

RESCHEDULED = "rescheduled"
NOTICES = {
    RESCHEDULED: ("An appointment was rescheduled", "Sign in to see its new time."),
    CANCELLED: ("An appointment was cancelled", "Sign in to see your appointments."),
}


class AppointmentChanges:
    def __init__(self, session: AsyncSession, container: Container) -> None:
        self.session = session
        self.container = container
        self.appointments = AppointmentService(session, container)
        self.repository = AppointmentRepository(session)
        self.patients = PatientService(session, container)

    async def reschedule(
        self,
        principal: Principal,
        appointment_id: uuid.UUID,
        data: AppointmentUpdate,
        *,
        why: str,
    ) -> AppointmentRead:
        """Move the slot (the API's rules: clashes, times) and keep why; notify both sides."""
        before = await self.appointments.get(principal, appointment_id)
        await self.appointments.reschedule(principal, appointment_id, data)
        appointment = await self._row(principal, appointment_id)
        appointment.change_reason = why
        await self.session.flush()
        await self._announce(principal, appointment, RESCHEDULED, also=before.practitioner_id)
        log.info("records.appointment.rescheduled", appointment_id=str(appointment.id))
        return self.appointments_read(appointment)

    async def cancel(
        self, principal: Principal, appointment_id: uuid.UUID, *, why: str
    ) -> AppointmentRead:
        """Cancel once with the reason; cancelling again changes nothing and tells no one."""
        before = await self.appointments.get(principal, appointment_id)
        await self.appointments.cancel(principal, appointment_id)
        appointment = await self._row(principal, appointment_id)
        if before.status != CANCELLED:
            appointment.cancel_reason = why
            await self.session.flush()
            await self._announce(principal, appointment, CANCELLED)
        return self.appointments_read(appointment)

    @staticmethod
    def appointments_read(appointment: Appointment) -> AppointmentRead:
        return AppointmentRead.model_validate(appointment, from_attributes=True)

    async def reasons(
        self, principal: Principal, appointment_id: uuid.UUID
    ) -> tuple[str | None, str | None]:
        """(why it was cancelled, why it was last moved) of a visible appointment."""
        await self.appointments.get(principal, appointment_id)
        appointment = await self._row(principal, appointment_id)
        return appointment.cancel_reason, appointment.change_reason

    async def _row(self, principal: Principal, appointment_id: uuid.UUID) -> Appointment:
        appointment = await self.repository.get(appointment_id, tenant=principal.organization_id)
        if appointment is None:
            raise AppointmentNotFound(APPOINTMENT_NOT_FOUND)
        return appointment

    async def _announce(
        self,
        principal: Principal,
        appointment: Appointment,
        event: str,
        *,
        also: uuid.UUID | None = None,
    ) -> None:
        """The practitioner (and the one it was moved from) and the patient's account."""
        title, body = NOTICES[event]
        patient = await self.patients.lookup(principal, appointment.patient_id)
        recipients: list[tuple[uuid.UUID, str]] = [
            (user_id, "/appointments")
            for user_id in dict.fromkeys(
                [appointment.practitioner_id, also or appointment.practitioner_id]
            )
        ]
        if patient is not None and patient.user_id is not None:
            recipients.append((patient.user_id, "/my-chart"))
        stamp = appointment.updated_at.isoformat()
        for user_id, link in recipients:
            if user_id == principal.user_id:
                continue
            await notify(
                self.session,
                organization_id=appointment.organization_id,
                user_ids=[user_id],
                kind=f"appointment.{event}",
                title=title,
                body=f"{title}. {body}",
                link=link,
                dedupe_key=f"appt:{appointment.id}:{event}:{stamp}:{user_id}",
            )
            key = f"{appointment.id}-{event}-{int(appointment.updated_at.timestamp())}-{user_id}"
            after_commit(
                self.session,
                functools.partial(start_mail, self.container, user_id, event, link, key),
            )
