"""The appointment schedule and booking (a clash is shown on the form).

Rescheduling, cancelling and follow-ups are in appointment_changes.py.

Times are shown and read in the viewer's time zone (the user's, else the
organization's, else UTC; web/local_time.py) and stored in UTC.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.bootstrap import Container
from clinvault.deps import ContainerDep, SessionDep
from clinvault.errors import AppointmentClash, RequestInvalid
from clinvault.identity import policies as identity_policies
from clinvault.identity.principal import Principal, Role
from clinvault.identity.users_service import UserService
from clinvault.localtime import format_moment, local_midnight
from clinvault.records import policies
from clinvault.records.appointments.repository import AppointmentFilter
from clinvault.records.appointments.schemas import AppointmentCreate
from clinvault.records.appointments.service import AppointmentService
from clinvault.records.pagination import PageRequest
from clinvault.records.patients.service import PatientService
from clinvault.timeutil import utcnow
from clinvault.web.local_time import zone_of
from clinvault.web.pages import form_errors as wording
from clinvault.web.pages.common import VerifiedForm, discard_changes, portal_router, see_other
from clinvault.web.pages.form_errors import plain_errors
from clinvault.web.pages.licence_flags import PractitionerNames, with_licence_flags
from clinvault.web.pages.patients import app_field_errors, form_values, page_count
from clinvault.web.pages.slot_form import read_slot
from clinvault.web.render import render
from clinvault.web.session import PortalPrincipal

router = portal_router()

PAGE_SIZE = 50
SCHEDULE_DAYS = (1, 7, 14, 31)
DURATIONS = ("15", "30", "45", "60", "90", "120")
BOOKING_FIELDS = ("practitioner_id", "day", "start", "minutes", "reason")


async def people_names(
    session: AsyncSession, container: Container, principal: Principal
) -> dict[uuid.UUID, str]:
    """Names of the organization's doctors and nurses (with their licence flags), for
    staff; nothing for others."""
    if not identity_policies.can_list_practitioners(principal):
        return {}
    names = await UserService(session, container).practitioners(principal)
    return await with_licence_flags(session, container, principal, names)


async def _patient_names(
    session: AsyncSession, container: Container, principal: Principal, ids: set[uuid.UUID]
) -> dict[uuid.UUID, str]:
    service = PatientService(session, container)
    names: dict[uuid.UUID, str] = {}
    for patient_id in ids:
        patient = await service.lookup(principal, patient_id)
        if patient is not None:
            names[patient_id] = f"{patient.last_name}, {patient.first_name}"
    return names


def _day(text: str, zone: ZoneInfo) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return datetime.now(UTC).astimezone(zone).date()


@router.get("/appointments", name="portal.appointment.list")
async def schedule(
    request: Request,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
    start: str = "",
    days: int = 7,
    practitioner: str = "",
    page: int = 1,
) -> Response:
    zone = zone_of(request)
    first_day = _day(start.strip()[:10], zone)
    days = days if days in SCHEDULE_DAYS else 7
    takes_appointments = principal.has(Role.DOCTOR, Role.NURSE)
    mine = takes_appointments and practitioner != "all"
    chosen: uuid.UUID | None = principal.user_id if mine else None
    if practitioner not in ("", "all"):
        try:
            chosen = uuid.UUID(practitioner)
        except ValueError:
            chosen = None
    where = AppointmentFilter(
        practitioner_id=chosen,
        start=local_midnight(first_day, zone),
        stop=local_midnight(first_day + timedelta(days=days), zone),
    )
    paging = PageRequest(page=min(max(page, 1), 100_000), page_size=PAGE_SIZE)
    result = await AppointmentService(session, container).list_appointments(
        principal, where, paging
    )
    patients = await _patient_names(
        session, container, principal, {item.patient_id for item in result.items}
    )
    names = await people_names(session, container, principal)
    context.describe_resource("appointment")
    values = {
        "result": result,
        "pages": page_count(result.total, PAGE_SIZE),
        "start": first_day.isoformat(),
        "days": days,
        "day_choices": SCHEDULE_DAYS,
        "practitioner": "" if chosen is None else str(chosen),
        "showing_mine": chosen is not None and chosen == principal.user_id,
        "takes_appointments": takes_appointments,
        "patients": patients,
        "names": names,
        "can_book": policies.can_book_appointments(principal),
        "params": {"start": first_day.isoformat(), "days": days, "practitioner": practitioner},
    }
    return render(request, "appointments_list.html", values, principal=principal)


def _booking_page(
    request: Request, principal: Principal, status_code: int = 200, **values: Any
) -> Response:
    data: dict[str, Any] = {
        "values": {**dict.fromkeys(BOOKING_FIELDS, ""), "minutes": "30"},
        "errors": {},
        "error": None,
        "clash": None,
        "durations": DURATIONS,
        "practitioners": {},
    }
    data.update(values)
    ordered = sorted(data["practitioners"].items(), key=lambda item: item[1].casefold())
    people = data["practitioners"]
    label = people.label if isinstance(people, PractitionerNames) else (lambda _, name: name)
    data["practitioner_labels"] = {str(key): label(key, name) for key, name in ordered}
    return render(
        request, "appointments_new.html", data, principal=principal, status_code=status_code
    )


def _require_booker(principal: Principal) -> None:
    policies.require(
        policies.can_book_appointments(principal),
        "Only administrators and clerks book, reschedule and cancel appointments.",
    )


@router.get("/patients/{patient_id:uuid}/appointments/new", name="portal.appointment.new")
async def new_appointment(
    request: Request,
    patient_id: uuid.UUID,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    patient = await PatientService(session, container).get(principal, patient_id)
    _require_booker(principal)
    practitioners = await people_names(session, container, principal)
    context.describe_resource("patient", patient.id)
    return _booking_page(request, principal, patient=patient, practitioners=practitioners)


@router.post("/patients/{patient_id:uuid}/appointments/new", name="portal.appointment.book")
async def book(
    request: Request,
    patient_id: uuid.UUID,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    patient = await PatientService(session, container).get(principal, patient_id)
    _require_booker(principal)
    practitioners = await people_names(session, container, principal)
    values = form_values(form, BOOKING_FIELDS)
    page = {"patient": patient, "practitioners": practitioners, "values": values}
    starts, ends, errors = read_slot(values, zone_of(request))
    if values["minutes"] not in DURATIONS:
        errors.setdefault("minutes", wording.APPOINTMENT["minutes"].invalid)
    body = {
        "patient_id": str(patient.id),
        "practitioner_id": values["practitioner_id"] or None,
        "starts_at": starts.isoformat() if starts else utcnow().isoformat(),
        "ends_at": ends.isoformat() if ends else utcnow().isoformat(),
        "reason": values["reason"] or None,
    }
    data: AppointmentCreate | None = None
    try:
        data = AppointmentCreate.model_validate(body)
    except ValidationError as error:
        errors = {**plain_errors(error, values, wording.APPOINTMENT), **errors}
    if errors or data is None:
        return _booking_page(request, principal, 400, errors=errors, **page)
    try:
        await AppointmentService(session, container).book(principal, data)
    except AppointmentClash as error:
        await discard_changes(session)
        who = practitioners.get(data.practitioner_id, "The practitioner")
        clash = _clash(error, who, zone_of(request))
        return _booking_page(request, principal, 409, clash=clash, **page)
    except RequestInvalid as error:
        await discard_changes(session)
        errors = _booking_errors(app_field_errors(error))
        return _booking_page(
            request, principal, error.status, errors=errors, error=error.detail, **page
        )
    return see_other(f"/patients/{patient.id}?notice=booked")


def _booking_errors(found: dict[str, str]) -> dict[str, str]:
    """Errors about starts_at/ends_at belong to the form's day, time and duration fields."""
    renamed = {"starts_at": "start", "ends_at": "minutes"}
    return {renamed.get(name, name): message for name, message in found.items()}


def _clash(error: AppointmentClash, who: str, zone: ZoneInfo) -> dict[str, Any]:
    """The clash in words, in the viewer's zone: "Dr Kwame Osei already has an appointment
    at 10:00 CST on 12 March 2026 (until 10:30 CST)"."""

    def moment(text: str) -> datetime | None:
        try:
            return datetime.fromisoformat(text).astimezone(UTC)
        except ValueError:
            return None

    starts = moment(error.clash.get("starts_at", ""))
    ends = moment(error.clash.get("ends_at", ""))
    message = f"{who} already has an appointment"
    if starts is not None:
        message += f" at {format_moment(starts, zone, 'slot')}"
        if ends is not None:
            message += f" (until {format_moment(ends, zone, 'time')})"
    return {"starts_at": starts, "ends_at": ends, "message": message + "."}
