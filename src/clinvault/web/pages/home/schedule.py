"""Appointments on the home page: today's schedule for staff, the next visit for a patient."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta, tzinfo

from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.bootstrap import Container
from clinvault.identity import policies as identity_policies
from clinvault.identity.principal import Principal, Role
from clinvault.identity.users_service import UserService
from clinvault.records import policies
from clinvault.records.appointments.repository import AppointmentFilter
from clinvault.records.appointments.schemas import REQUESTED, SCHEDULED
from clinvault.records.appointments.service import AppointmentService
from clinvault.records.pagination import PageRequest
from clinvault.records.patients.service import PatientService
from clinvault.timeutil import utcnow
from clinvault.web.pages.home.panels import ROWS, Panel, Row, clock, day_and_clock, plural


async def today(
    session: AsyncSession, container: Container, principal: Principal, zone: tzinfo
) -> Panel | None:
    """Staff: today's scheduled appointments in the viewer's zone; a doctor or nurse sees
    their own, the front desk and administrators the organization's."""
    if not policies.is_staff(principal):
        return None
    own = principal.has(Role.DOCTOR, Role.NURSE) and not policies.can_book_appointments(principal)
    local_day = utcnow().astimezone(zone).date()
    start = datetime.combine(local_day, time.min, tzinfo=zone)
    where = AppointmentFilter(
        practitioner_id=principal.user_id if own else None,
        status=SCHEDULED,
        start=start,
        stop=datetime.combine(local_day + timedelta(days=1), time.min, tzinfo=zone),
    )
    page = await AppointmentService(session, container).list_appointments(
        principal, where, PageRequest(page=1, page_size=ROWS)
    )
    patients = PatientService(session, container)
    names: dict[uuid.UUID, str] = {}
    if not own and identity_policies.can_list_practitioners(principal):
        names = await UserService(session, container).practitioners(principal)
    rows = []
    for item in page.items:
        patient = await patients.lookup(principal, item.patient_id)
        who = f"{patient.last_name}, {patient.first_name}" if patient else "Patient"
        detail = f"{clock(item.starts_at, zone)} to {clock(item.ends_at, zone)}"
        if not own:
            detail += f" · {names.get(item.practitioner_id, 'practitioner')}"
        rows.append(
            Row(
                text=who,
                detail=detail,
                route="portal.patient.read",
                params={"patient_id": str(item.patient_id)},
            )
        )
    whose = "Your appointments" if own else "Appointments"
    return Panel(
        key="schedule",
        title=f"{whose} today",
        summary=f"{plural(page.total, 'appointment')} today ({local_day:%a %d %b}).",
        rows=tuple(rows),
        route="portal.appointment.list",
        route_label="Open the schedule",
    )


async def requests(
    session: AsyncSession, container: Container, principal: Principal, zone: tzinfo
) -> Panel | None:
    """The front desk: patients' appointment requests waiting for a decision."""
    if not policies.can_book_appointments(principal):
        return None
    where = AppointmentFilter(status=REQUESTED, start=utcnow())
    page = await AppointmentService(session, container).list_appointments(
        principal, where, PageRequest(page=1, page_size=ROWS)
    )
    patients = PatientService(session, container)
    rows = []
    for item in page.items:
        patient = await patients.lookup(principal, item.patient_id)
        rows.append(
            Row(
                text=f"{patient.last_name}, {patient.first_name}" if patient else "Patient",
                detail=f"from {day_and_clock(item.starts_at, zone)}",
            )
        )
    return Panel(
        key="requests",
        title="Appointment requests",
        summary=f"{plural(page.total, 'request')} waiting for a decision.",
        rows=tuple(rows),
        route="portal.appointment.requests",
        route_label="Confirm or decline requests",
        attention=page.total > 0,
    )


async def next_visit(
    session: AsyncSession, container: Container, principal: Principal, zone: tzinfo
) -> Panel | None:
    """A patient: their next scheduled appointment."""
    if not principal.has(Role.PATIENT) or policies.is_staff(principal):
        return None
    where = AppointmentFilter(status=SCHEDULED, start=utcnow())
    page = await AppointmentService(session, container).list_appointments(
        principal, where, PageRequest(page=1, page_size=1)
    )
    rows = tuple(
        Row(text=day_and_clock(item.starts_at, zone), detail=item.reason or "")
        for item in page.items
    )
    return Panel(
        key="next-appointment",
        title="Your next appointment",
        summary=(
            "No appointment booked."
            if not page.total
            else f"{plural(page.total, 'upcoming appointment')}; the next one:"
        ),
        rows=rows,
        route="portal.my_chart.read",
        route_label="Open my chart",
    )
