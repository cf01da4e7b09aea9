"""Rescheduling and cancelling an appointment, each confirmed with a reason; follow-ups.

Rescheduling takes two steps: the form (new time, practitioner, why) shows a
confirmation page with the old and the new slot, and only its "Confirm"
button moves the appointment. Cancelling shows the appointment and asks why
before the button cancels it. Either way the patient's account and the
practitioner get a notification (records.appointments.changes). A follow-up
opens the booking form with the patient and the practitioner filled in.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.bootstrap import Container
from clinvault.deps import ContainerDep, SessionDep
from clinvault.errors import AppointmentCancelled, AppointmentClash, RequestInvalid
from clinvault.identity.principal import Principal
from clinvault.localtime import as_utc
from clinvault.records import policies
from clinvault.records.appointments.changes import AppointmentChanges
from clinvault.records.appointments.repository import AppointmentFilter
from clinvault.records.appointments.schemas import (
    CANCELLED,
    AppointmentRead,
    AppointmentUpdate,
)
from clinvault.records.appointments.service import BOOKING_DENIED, AppointmentService
from clinvault.records.pagination import PageRequest
from clinvault.records.patients.schemas import PatientRead
from clinvault.records.patients.service import PatientService
from clinvault.web.local_time import zone_of
from clinvault.web.pages import form_errors as wording
from clinvault.web.pages.appointments import (
    BOOKING_FIELDS,
    DURATIONS,
    _booking_page,
    people_names,
)
from clinvault.web.pages.common import VerifiedForm, discard_changes, portal_router, see_other
from clinvault.web.pages.form_errors import plain_errors
from clinvault.web.pages.patients import app_field_errors, form_values
from clinvault.web.pages.slot_form import read_slot
from clinvault.web.render import render
from clinvault.web.session import PortalPrincipal, safe_next

router = portal_router()

MOVE_FIELDS = ("practitioner_id", "day", "start", "minutes", "why")
MAX_WHY = 500


async def _changeable(
    session: AsyncSession, container: Container, principal: Principal, appointment_id: uuid.UUID
) -> tuple[AppointmentRead, PatientRead]:
    appointment = await AppointmentService(session, container).get(principal, appointment_id)
    policies.require(policies.can_book_appointments(principal), BOOKING_DENIED)
    patient = await PatientService(session, container).get(principal, appointment.patient_id)
    return appointment, patient


def _prefilled(appointment: AppointmentRead, zone: ZoneInfo) -> dict[str, str]:
    """The form's values for the appointment as it is, on the viewer's wall clock."""
    starts = as_utc(appointment.starts_at).astimezone(zone)
    minutes = int((appointment.ends_at - appointment.starts_at).total_seconds() // 60)
    return {
        "practitioner_id": str(appointment.practitioner_id),
        "day": starts.date().isoformat(),
        "start": starts.strftime("%H:%M"),
        "minutes": str(minutes),
        "why": "",
    }


def _durations(current: str) -> list[str]:
    choices = list(DURATIONS)
    if current.isdigit() and current not in choices:
        choices.append(current)
        choices.sort(key=int)
    return choices


async def _move_page(
    request: Request,
    session: AsyncSession,
    container: Container,
    principal: Principal,
    appointment: AppointmentRead,
    patient: PatientRead,
    *,
    template: str = "appointments_reschedule.html",
    status_code: int = 200,
    **values: Any,
) -> Response:
    practitioners = await people_names(session, container, principal)
    ordered = sorted(practitioners.items(), key=lambda item: item[1].casefold())
    data: dict[str, Any] = {
        "appointment": appointment,
        "patient": patient,
        "values": _prefilled(appointment, zone_of(request)),
        "errors": {},
        "error": None,
        "clash": None,
        "names": practitioners,
        "practitioner_labels": {str(key): name for key, name in ordered},
    }
    data.update(values)
    data["durations"] = _durations(data["values"]["minutes"])
    return render(request, template, data, principal=principal, status_code=status_code)


def _why_error(why: str, what: str) -> dict[str, str]:
    if not why:
        return {"why": f"Say why the appointment is {what}: the reason is kept with it."}
    if len(why) > MAX_WHY or "\n" in why or "\r" in why:
        return {"why": wording.APPOINTMENT["why"].invalid}
    return {}


def _update(
    values: dict[str, str], zone: ZoneInfo
) -> tuple[AppointmentUpdate | None, dict[str, str]]:
    starts, ends, errors = read_slot(values, zone)
    errors.update(_why_error(values["why"], "moved"))
    if not values["practitioner_id"]:
        errors["practitioner_id"] = wording.APPOINTMENT["practitioner_id"].missing
    data: AppointmentUpdate | None = None
    if starts is not None and ends is not None:
        body = {
            "practitioner_id": values["practitioner_id"] or None,
            "starts_at": starts.isoformat(),
            "ends_at": ends.isoformat(),
        }
        try:
            data = AppointmentUpdate.model_validate(body)
        except ValidationError as error:
            errors = {**plain_errors(error, values, wording.APPOINTMENT), **errors}
    return (None if errors else data), errors


@router.get(
    "/appointments/{appointment_id:uuid}/reschedule", name="portal.appointment.reschedule_form"
)
async def reschedule_form(
    request: Request,
    appointment_id: uuid.UUID,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    appointment, patient = await _changeable(session, container, principal, appointment_id)
    if appointment.status == CANCELLED:
        return see_other(f"/patients/{patient.id}")
    return await _move_page(request, session, container, principal, appointment, patient)


@router.post(
    "/appointments/{appointment_id:uuid}/reschedule", name="portal.appointment.reschedule_review"
)
async def reschedule_review(
    request: Request,
    appointment_id: uuid.UUID,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    """Check the form and show the confirmation; nothing is changed yet."""
    appointment, patient = await _changeable(session, container, principal, appointment_id)
    values = form_values(form, MOVE_FIELDS)
    data, errors = _update(values, zone_of(request))
    page = (request, session, container, principal, appointment, patient)
    if data is None:
        return await _move_page(*page, status_code=400, values=values, errors=errors)
    return await _move_page(
        *page, template="appointments_reschedule_confirm.html", values=values, new=data
    )


@router.post(
    "/appointments/{appointment_id:uuid}/reschedule/confirm", name="portal.appointment.reschedule"
)
async def reschedule(
    request: Request,
    appointment_id: uuid.UUID,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    appointment, patient = await _changeable(session, container, principal, appointment_id)
    values = form_values(form, MOVE_FIELDS)
    data, errors = _update(values, zone_of(request))
    page = (request, session, container, principal, appointment, patient)
    if data is None:
        return await _move_page(*page, status_code=400, values=values, errors=errors)
    try:
        await AppointmentChanges(session, container).reschedule(
            principal, appointment.id, data, why=values["why"]
        )
    except AppointmentClash as error:
        await discard_changes(session)
        return await _move_page(*page, status_code=409, values=values, clash=_clash(error))
    except (AppointmentCancelled, RequestInvalid) as error:
        await discard_changes(session)
        found = _move_errors(app_field_errors(error))
        detail = None if found else error.detail
        return await _move_page(
            *page, status_code=error.status, values=values, errors=found, error=detail
        )
    return see_other(f"/patients/{patient.id}?notice=rescheduled")


def _move_errors(found: dict[str, str]) -> dict[str, str]:
    plain = {
        "starts_at": ("start", "Choose a start time that is not in the past."),
        "ends_at": ("minutes", "Choose a shorter duration."),
        "practitioner_id": ("practitioner_id", "Choose an active doctor or nurse."),
    }
    shown: dict[str, str] = {}
    for name, text in found.items():
        field, message = plain.get(name, (name, text))
        shown[field] = message
    return shown


def _clash(error: AppointmentClash) -> dict[str, datetime | None]:
    def moment(text: str) -> datetime | None:
        try:
            return datetime.fromisoformat(text).astimezone(UTC)
        except ValueError:
            return None

    return {
        "starts_at": moment(str(error.clash.get("starts_at", ""))),
        "ends_at": moment(str(error.clash.get("ends_at", ""))),
    }


async def _cancel_page(
    request: Request,
    session: AsyncSession,
    container: Container,
    principal: Principal,
    appointment: AppointmentRead,
    patient: PatientRead,
    status_code: int = 200,
    **values: Any,
) -> Response:
    data: dict[str, Any] = {
        "appointment": appointment,
        "patient": patient,
        "why": "",
        "back": f"/patients/{patient.id}",
        "given": None,
        "errors": {},
        "names": await people_names(session, container, principal),
    }
    data.update(values)
    return render(
        request, "appointments_cancel.html", data, principal=principal, status_code=status_code
    )


@router.get("/appointments/{appointment_id:uuid}/cancel", name="portal.appointment.cancel_form")
async def cancel_form(
    request: Request,
    appointment_id: uuid.UUID,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
    back: str = "",
) -> Response:
    appointment, patient = await _changeable(session, container, principal, appointment_id)
    back_to = safe_next(back) if back else f"/patients/{patient.id}"
    why, _ = await AppointmentChanges(session, container).reasons(principal, appointment.id)
    return await _cancel_page(
        request, session, container, principal, appointment, patient, back=back_to, given=why
    )


@router.post("/appointments/{appointment_id:uuid}/cancel", name="portal.appointment.cancel")
async def cancel(
    request: Request,
    appointment_id: uuid.UUID,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    appointment, patient = await _changeable(session, container, principal, appointment_id)
    why = form.get("why").strip()[: MAX_WHY * 2]
    back = safe_next(form.get("back"))
    if back == "/":
        back = f"/patients/{patient.id}"
    errors = _why_error(why, "cancelled")
    if errors:
        page = (request, session, container, principal, appointment, patient, 400)
        return await _cancel_page(*page, why=why, back=back, errors=errors)
    await AppointmentChanges(session, container).cancel(principal, appointment.id, why=why)
    separator = "&" if "?" in back else "?"
    return see_other(f"{back}{separator}notice=cancelled")


async def _last_practitioner(
    session: AsyncSession, container: Container, principal: Principal, patient_id: uuid.UUID
) -> uuid.UUID | None:
    """The practitioner of the patient's latest appointment that was not cancelled (or of
    the latest cancelled one, when all were)."""
    result = await AppointmentService(session, container).list_appointments(
        principal, AppointmentFilter(patient_id=patient_id), PageRequest(page=1, page_size=100)
    )
    kept = [item for item in result.items if item.status != CANCELLED] or list(result.items)
    return kept[-1].practitioner_id if kept else None


@router.get("/patients/{patient_id:uuid}/follow-up", name="portal.appointment.follow_up")
async def follow_up(
    request: Request,
    patient_id: uuid.UUID,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
    practitioner: str = "",
) -> Response:
    """The booking form with the patient and the practitioner filled in."""
    patient = await PatientService(session, container).get(principal, patient_id)
    policies.require(policies.can_book_appointments(principal), BOOKING_DENIED)
    practitioners = await people_names(session, container, principal)
    try:
        chosen: uuid.UUID | None = uuid.UUID(practitioner[:36])
    except ValueError:
        chosen = await _last_practitioner(session, container, principal, patient.id)
    values = dict.fromkeys(BOOKING_FIELDS, "")
    values.update(
        practitioner_id=str(chosen) if chosen in practitioners else "",
        day=(datetime.now(zone_of(request)).date() + timedelta(days=7)).isoformat(),
        minutes="30",
        reason="Follow-up",
    )
    return _booking_page(
        request, principal, patient=patient, practitioners=practitioners, values=values
    )
