"""Patient self-service on appointments: request one, cancel one's own; staff decide requests.

A request is an appointment in status `requested`: `starts_at` opens the
patient's preferred window and `requested_until` closes it; it holds no slot
until the front desk confirms a time in it (then it is `scheduled`, with the
usual clash check) or declines it. A patient cancels their own appointment
online up to CANCEL_CUTOFF before it starts (a pending request at any time);
later they call the clinic. The practitioner is told in the portal and by an
email that says only that something changed and where to look: no name, time
or reason (no PHI in email).
"""

from __future__ import annotations

import functools
import uuid
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.bootstrap import Container
from clinvault.db import after_commit
from clinvault.errors import (
    AppointmentNotFound,
    AppointmentTimesInvalid,
    PatientNotFound,
    PractitionerInvalid,
)
from clinvault.errors.records import AppointmentCancelTooLate, AppointmentNotRequested
from clinvault.identity.principal import Principal, Role
from clinvault.mail.ports import MailDeliveryFailed
from clinvault.models.records import Appointment
from clinvault.notifications.service import notify
from clinvault.records import policies
from clinvault.records.appointments.repository import AppointmentRepository
from clinvault.records.appointments.schemas import (
    CANCELLED,
    DECLINED,
    REQUESTED,
    SCHEDULED,
    AppointmentRead,
    AppointmentRequestCreate,
    RequestConfirm,
)
from clinvault.records.appointments.service import (
    APPOINTMENT_NOT_FOUND,
    BOOKING_DENIED,
    AppointmentService,
    _place,
    appointment_read,
    check_times,
)
from clinvault.records.patients.service import PATIENT_NOT_FOUND, PatientService
from clinvault.records.policies import require
from clinvault.timeutil import utcnow

log = structlog.get_logger(__name__)

CANCEL_CUTOFF = timedelta(hours=24)
REQUEST_MINUTES = 30
MAX_WINDOW = timedelta(hours=12)
MAX_AHEAD = timedelta(days=366)
NOTICES = {
    "requested": ("An appointment was requested with you", "/appointments/requests"),
    "patient_cancelled": ("A patient cancelled an appointment with you", "/appointments"),
    "confirmed": ("Your appointment request was confirmed", "/my-chart"),
    "declined": ("Your appointment request could not be booked", "/my-chart"),
}


class AppointmentSelfService:
    def __init__(self, session: AsyncSession, container: Container) -> None:
        self.session = session
        self.container = container
        self.repository = AppointmentRepository(session)
        self.appointments = AppointmentService(session, container)
        self.patients = PatientService(session, container)

    async def request(
        self, principal: Principal, data: AppointmentRequestCreate
    ) -> AppointmentRead:
        """A patient asks for a slot in a window; it waits for the front desk."""
        context.describe_resource("appointment")
        require(
            principal.has(Role.PATIENT),
            "Only patients request appointments online; staff book them.",
        )
        own = await self.patients.own_patient_id(principal)
        wanted = data.patient_id or own
        patient = None if wanted is None else await self.patients.lookup(principal, wanted)
        if patient is None:
            raise PatientNotFound(PATIENT_NOT_FOUND)
        require(
            policies.can_request_appointment(principal, patient.user_id),
            "Only the patient requests appointments online; staff book them.",
        )
        _check_window(data.window_start, data.window_end)
        practitioner = await self.repository.lock_practitioner(
            data.practitioner_id, tenant=principal.organization_id
        )
        if (
            practitioner is None
            or not practitioner.is_active
            or not policies.can_take_appointments(practitioner.roles)
        ):
            raise PractitionerInvalid(
                "Choose a doctor or nurse of the clinic from the list.",
                errors=[{"field": "practitioner_id", "in": "body", "message": "not bookable"}],
            )
        appointment = Appointment(
            organization_id=principal.organization_id,
            patient_id=patient.id,
            practitioner_id=practitioner.id,
            starts_at=data.window_start,
            ends_at=data.window_start + timedelta(minutes=REQUEST_MINUTES),
            requested_until=data.window_end,
            reason=data.reason,
            status=REQUESTED,
            booked_by=principal.user_id,
        )
        await self.repository.add(appointment)
        context.describe_resource("appointment", appointment.id)
        await self._tell(appointment, "requested", practitioner.id, practitioner.email)
        log.info("records.appointment.requested", appointment_id=str(appointment.id))
        return appointment_read(appointment)

    async def cancel_own(self, principal: Principal, appointment_id: uuid.UUID) -> AppointmentRead:
        """The patient cancels their upcoming appointment (or withdraws a request)."""
        appointment, patient_user = await self._load(principal, appointment_id)
        require(
            policies.can_cancel_own_appointment(principal, patient_user),
            "Only the patient cancels their own appointment here; staff use the schedule.",
        )
        if appointment.status == CANCELLED:
            return appointment_read(appointment)
        if appointment.status not in (SCHEDULED, REQUESTED):
            raise AppointmentNotRequested("This appointment can no longer be cancelled.")
        if appointment.status == SCHEDULED and not cancellable(appointment.starts_at):
            raise AppointmentCancelTooLate(
                "Appointments starting within 24 hours, or past ones, cannot be cancelled "
                "online: call the clinic."
            )
        appointment.status = CANCELLED
        appointment.cancelled_by = principal.user_id
        appointment.cancelled_at = appointment.updated_at = utcnow()
        await self.session.flush()
        practitioner = await self.repository.lock_practitioner(
            appointment.practitioner_id, tenant=principal.organization_id
        )
        email = None if practitioner is None else practitioner.email
        await self._tell(appointment, "patient_cancelled", appointment.practitioner_id, email)
        log.info("records.appointment.patient_cancelled", appointment_id=str(appointment.id))
        return appointment_read(appointment)

    async def confirm(
        self, principal: Principal, appointment_id: uuid.UUID, data: RequestConfirm
    ) -> AppointmentRead:
        """Front desk: book the request at a time in its window (clashes refused)."""
        appointment, patient_user = await self._pending(principal, appointment_id)
        starts_at = data.starts_at or appointment.starts_at
        appointment.starts_at = starts_at
        appointment.ends_at = starts_at + timedelta(minutes=data.minutes)
        check_times(appointment.starts_at, appointment.ends_at, self.appointments.max_minutes)
        appointment.status = SCHEDULED
        appointment.updated_at = utcnow()
        await _place(self.repository, appointment)
        await self._tell(appointment, "confirmed", patient_user, None)
        return appointment_read(appointment)

    async def decline(self, principal: Principal, appointment_id: uuid.UUID) -> AppointmentRead:
        appointment, patient_user = await self._pending(principal, appointment_id)
        appointment.status = DECLINED
        appointment.cancelled_by = principal.user_id
        appointment.cancelled_at = appointment.updated_at = utcnow()
        await self.session.flush()
        await self._tell(appointment, "declined", patient_user, None)
        return appointment_read(appointment)

    async def _pending(
        self, principal: Principal, appointment_id: uuid.UUID
    ) -> tuple[Appointment, uuid.UUID | None]:
        appointment, patient_user = await self._load(principal, appointment_id)
        require(policies.can_book_appointments(principal), BOOKING_DENIED)
        if appointment.status != REQUESTED:
            raise AppointmentNotRequested(
                f"This appointment is {appointment.status}, not a pending request: reload the list."
            )
        return appointment, patient_user

    async def _load(
        self, principal: Principal, appointment_id: uuid.UUID
    ) -> tuple[Appointment, uuid.UUID | None]:
        """The appointment as the principal may see it (another patient's is 404)."""
        context.describe_resource("appointment", appointment_id)
        appointment = await self.repository.get(appointment_id, tenant=principal.organization_id)
        patient = (
            None
            if appointment is None
            else await self.patients.lookup(principal, appointment.patient_id)
        )
        if appointment is None or patient is None:
            raise AppointmentNotFound(APPOINTMENT_NOT_FOUND)
        return appointment, patient.user_id

    async def _tell(
        self, appointment: Appointment, kind: str, user_id: uuid.UUID | None, email: str | None
    ) -> None:
        """In-app notice in this transaction; an email (no PHI) after commit."""
        if user_id is None:
            return
        title, path = NOTICES[kind]
        key = f"appointment.{kind}:{appointment.id}"
        await notify(
            self.session,
            organization_id=appointment.organization_id,
            user_ids=[user_id],
            kind=f"appointment.{kind}",
            title=title,
            body=f"{title}. Sign in to see it.",
            link=path,
            dedupe_key=key,
        )
        if email:
            send = functools.partial(_mail, self.container, email, title, path, key)
            after_commit(self.session, send)


def cancellable(starts_at: datetime, now: datetime | None = None) -> bool:
    """Whether a patient may still cancel online (before the cut-off)."""
    return starts_at - (now or utcnow()) >= CANCEL_CUTOFF


def _check_window(start: datetime, end: datetime) -> None:
    now = utcnow()
    problems: list[tuple[str, str]] = []
    if start < now:
        problems.append(("window_start", "The preferred window must start in the future."))
    elif start > now + MAX_AHEAD:
        problems.append(("window_start", "Requests can be made up to a year ahead."))
    if end <= start:
        problems.append(("window_end", "The window must end after it starts."))
    elif end - start > MAX_WINDOW:
        problems.append(("window_end", "The window can be at most 12 hours long."))
    if problems:
        raise AppointmentTimesInvalid(
            " ".join(message for _, message in problems),
            errors=[
                {"field": name, "in": "body", "message": message, "type": "appointment_time"}
                for name, message in problems
            ],
        )


async def _mail(container: Container, to: str, headline: str, path: str, key: str) -> None:
    """Best effort: the in-app notice is the record; a failed email is logged, not raised."""
    try:
        mail = container.renderer.compose(
            "appointment_notice",
            to=[to],
            idempotency_key=key.replace(":", "-"),
            headline=headline,
            page_url=f"{container.settings.public_url.rstrip('/')}{path}",
        )
        await container.mailer.send(mail)
    except MailDeliveryFailed as exc:
        log.error("records.appointment.mail_failed", smtp_code=exc.smtp_code)
    except Exception:
        log.exception("records.appointment.mail_failed")
