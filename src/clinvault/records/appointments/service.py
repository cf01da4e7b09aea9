"""Appointment use cases: book, reschedule, cancel, list a schedule, read.

No practitioner is double-booked: every write that places a slot locks the
practitioner (see AppointmentRepository.lock_practitioner), writes, and then
looks for an overlapping slot that is not cancelled, answering 409 with the
clashing slot's id and times.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.bootstrap import Container
from clinvault.errors import (
    AppointmentCancelled,
    AppointmentClash,
    AppointmentNotFound,
    AppointmentTimesInvalid,
    PatientNotFound,
    PractitionerInvalid,
)
from clinvault.identity.principal import Principal
from clinvault.localtime import format_moment
from clinvault.models.records import Appointment
from clinvault.records import policies
from clinvault.records.appointments.repository import AppointmentFilter, AppointmentRepository
from clinvault.records.appointments.schemas import (
    CANCELLED,
    SCHEDULED,
    AppointmentCreate,
    AppointmentPage,
    AppointmentRead,
    AppointmentUpdate,
)
from clinvault.records.pagination import Page, PageRequest
from clinvault.records.patients.service import PATIENT_NOT_FOUND, PatientService
from clinvault.records.policies import require
from clinvault.timeutil import utcnow

log = structlog.get_logger(__name__)

APPOINTMENT_NOT_FOUND = "No appointment with this id in your organization: check the id."
BOOKING_DENIED = "Only administrators and clerks book, reschedule and cancel appointments."
CLOCK_SKEW = timedelta(minutes=5)


class AppointmentService:
    def __init__(self, session: AsyncSession, container: Container) -> None:
        self.session = session
        self.container = container
        self.repository = AppointmentRepository(session)
        self.patients = PatientService(session, container)
        self.max_minutes = container.settings.records.max_appointment_minutes

    async def book(self, principal: Principal, data: AppointmentCreate) -> AppointmentRead:
        context.describe_resource("appointment")
        require(policies.can_book_appointments(principal), BOOKING_DENIED)
        if await self.patients.lookup(principal, data.patient_id) is None:
            raise PatientNotFound(PATIENT_NOT_FOUND)
        appointment = await book_appointment(
            self.session,
            organization_id=principal.organization_id,
            data=data,
            booked_by=principal.user_id,
            max_minutes=self.max_minutes,
        )
        context.describe_resource("appointment", appointment.id)
        return appointment_read(appointment)

    async def reschedule(
        self, principal: Principal, appointment_id: uuid.UUID, data: AppointmentUpdate
    ) -> AppointmentRead:
        appointment = await self._visible(principal, appointment_id)
        require(policies.can_book_appointments(principal), BOOKING_DENIED)
        if appointment.status == CANCELLED:
            raise AppointmentCancelled(
                "A cancelled appointment cannot be rescheduled: book a new one."
            )
        moved = {"practitioner_id", "starts_at", "ends_at"} & data.model_fields_set
        if "reason" in data.model_fields_set:
            appointment.reason = data.reason
        if moved:
            appointment.practitioner_id = data.practitioner_id or appointment.practitioner_id
            appointment.starts_at = data.starts_at or appointment.starts_at
            appointment.ends_at = data.ends_at or appointment.ends_at
            check_times(appointment.starts_at, appointment.ends_at, self.max_minutes)
            await _place(self.repository, appointment)
        appointment.updated_at = utcnow()
        await self.session.flush()
        return appointment_read(appointment)

    async def cancel(self, principal: Principal, appointment_id: uuid.UUID) -> AppointmentRead:
        """Cancelled appointments are kept; cancelling twice changes nothing."""
        appointment = await self._visible(principal, appointment_id)
        require(policies.can_book_appointments(principal), BOOKING_DENIED)
        if appointment.status != CANCELLED:
            appointment.status = CANCELLED
            appointment.cancelled_by = principal.user_id
            appointment.cancelled_at = appointment.updated_at = utcnow()
            await self.session.flush()
            log.info("records.appointment.cancelled", appointment_id=str(appointment.id))
        return appointment_read(appointment)

    async def list_appointments(
        self, principal: Principal, where: AppointmentFilter, request: PageRequest
    ) -> AppointmentPage:
        """Staff see the organization's schedule; a patient sees only their own."""
        context.describe_resource("appointment")
        require(policies.can_list_appointments(principal), "You cannot list appointments.")
        if policies.acts_as_patient(principal):
            own = await self.patients.own_patient_id(principal)
            if where.patient_id is not None and where.patient_id != own:
                raise PatientNotFound(PATIENT_NOT_FOUND)
            if own is None:
                return _page([], 0, request)
            where = replace(where, patient_id=own)
        rows, total = await self.repository.page(
            where, tenant=principal.organization_id, request=request
        )
        return _page(rows, total, request)

    async def get(self, principal: Principal, appointment_id: uuid.UUID) -> AppointmentRead:
        appointment = await self._visible(principal, appointment_id)
        return appointment_read(appointment)

    async def _visible(self, principal: Principal, appointment_id: uuid.UUID) -> Appointment:
        context.describe_resource("appointment", appointment_id)
        appointment = await self.repository.get(appointment_id, tenant=principal.organization_id)
        patient = (
            None
            if appointment is None
            else await self.patients.lookup(principal, appointment.patient_id)
        )
        if appointment is None or patient is None:
            raise AppointmentNotFound(APPOINTMENT_NOT_FOUND)
        require(
            policies.can_read_appointment(principal, patient.user_id),
            "Your role cannot view appointments.",
        )
        return appointment


def check_times(
    starts_at: datetime, ends_at: datetime, max_minutes: int, *, allow_past: bool = False
) -> None:
    problems: list[tuple[str, str]] = []
    if ends_at <= starts_at:
        problems.append(("ends_at", "must be after starts_at"))
    elif ends_at - starts_at > timedelta(minutes=max_minutes):
        problems.append(("ends_at", f"an appointment lasts at most {max_minutes} minutes"))
    if not allow_past and starts_at < utcnow() - CLOCK_SKEW:
        problems.append(("starts_at", "must not be in the past"))
    if problems:
        raise AppointmentTimesInvalid(
            "Correct the appointment times: "
            + "; ".join(f"{name} {message}" for name, message in problems)
            + ".",
            errors=[
                {"field": name, "in": "body", "message": message, "type": "appointment_time"}
                for name, message in problems
            ],
        )


async def book_appointment(
    session: AsyncSession,
    *,
    organization_id: uuid.UUID,
    data: AppointmentCreate,
    booked_by: uuid.UUID | None,
    max_minutes: int,
    allow_past: bool = False,
) -> Appointment:
    """Book without permission checks (services, demo data); clashes are still refused."""
    check_times(data.starts_at, data.ends_at, max_minutes, allow_past=allow_past)
    appointment = Appointment(
        organization_id=organization_id,
        patient_id=data.patient_id,
        practitioner_id=data.practitioner_id,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        reason=data.reason,
        status=SCHEDULED,
        booked_by=booked_by,
    )
    await _place(AppointmentRepository(session), appointment)
    log.info("records.appointment.booked", appointment_id=str(appointment.id))
    return appointment


async def _place(repository: AppointmentRepository, appointment: Appointment) -> None:
    """Lock the practitioner, write the slot, then refuse it if it overlaps another."""
    practitioner = await repository.lock_practitioner(
        appointment.practitioner_id, tenant=appointment.organization_id
    )
    if (
        practitioner is None
        or not practitioner.is_active
        or not policies.can_take_appointments(practitioner.roles)
    ):
        raise PractitionerInvalid(
            "practitioner_id must be an active doctor or nurse of your organization.",
            errors=[
                {"field": "practitioner_id", "in": "body", "message": "not a bookable practitioner"}
            ],
        )
    await repository.add(appointment)
    clash = await repository.first_clash(
        tenant=appointment.organization_id,
        practitioner_id=appointment.practitioner_id,
        starts_at=appointment.starts_at,
        ends_at=appointment.ends_at,
        other_than=appointment.id,
    )
    if clash is not None:
        context.note_detail("appointment_clash")
        # Names the practitioner and the slot (in UTC, as the API speaks), never the patient.
        who = practitioner.display_name or "The practitioner"
        utc = ZoneInfo("UTC")
        raise AppointmentClash(
            f"{who} already has an appointment at {format_moment(clash.starts_at, utc, 'slot')} "
            f"(until {format_moment(clash.ends_at, utc, 'time')}): choose another time or "
            "practitioner.",
            clash={
                "id": str(clash.id),
                "starts_at": clash.starts_at.isoformat(),
                "ends_at": clash.ends_at.isoformat(),
            },
        )


def appointment_read(appointment: Appointment) -> AppointmentRead:
    return AppointmentRead.model_validate(appointment, from_attributes=True)


def _page(rows: Sequence[Appointment], total: int, request: PageRequest) -> AppointmentPage:
    return Page[AppointmentRead](
        items=[appointment_read(row) for row in rows],
        total=total,
        page=request.page,
        page_size=request.page_size,
    )
