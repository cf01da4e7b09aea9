"""The patient asks for an appointment and cancels their own (with a confirmation step).

The request form takes a practitioner, a day, a window (earliest and latest
start) in a time zone the patient picks, and a reason; the clinic confirms a
time in that window. Without JavaScript everything works; a refused form comes
back with every typed value and the message next to its field.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request, Response
from pydantic import ValidationError

from clinvault.deps import ContainerDep, SessionDep
from clinvault.errors import RequestInvalid
from clinvault.errors.records import AppointmentCancelTooLate, AppointmentNotRequested
from clinvault.identity.principal import Principal
from clinvault.localtime import NonexistentLocalTime, from_local, zone_or_none
from clinvault.records.appointments.requests import CANCEL_CUTOFF, AppointmentSelfService
from clinvault.records.appointments.schemas import REQUESTED, AppointmentRequestCreate
from clinvault.records.appointments.service import AppointmentService
from clinvault.records.export.service import ChartExportService
from clinvault.web.local_time import zone_of
from clinvault.web.pages.appointments import people_names
from clinvault.web.pages.common import VerifiedForm, discard_changes, portal_router, see_other
from clinvault.web.pages.patients import app_field_errors, field_errors, form_values
from clinvault.web.render import render
from clinvault.web.session import PortalPrincipal

router = portal_router()

REQUEST_FIELDS = ("practitioner_id", "day", "earliest", "latest", "timezone", "reason")
WORDING = {
    "practitioner_id": "Choose the doctor or nurse you would like to see.",
    "window_start": "Choose a day and an earliest time in the future.",
    "window_end": "The latest time must be after the earliest, on the same day.",
    "reason": "Keep the reason under 500 characters.",
}
FIELD_OF = {"window_start": "earliest", "window_end": "latest"}


def _request_page(
    request: Request, principal: Principal, status_code: int = 200, **values: Any
) -> Response:
    data: dict[str, Any] = {
        "values": {
            **dict.fromkeys(REQUEST_FIELDS, ""),
            "earliest": "09:00",
            "latest": "12:00",
            "timezone": zone_of(request).key,
        },
        "errors": {},
        "error": None,
        "practitioners": {},
    }
    data.update(values)
    ordered = sorted(data["practitioners"].items(), key=lambda item: item[1].casefold())
    data["practitioner_labels"] = {str(key): name for key, name in ordered}
    return render(
        request, "my_appointment_request.html", data, principal=principal, status_code=status_code
    )


@router.get("/my-chart/appointments/request", name="portal.my_appointment.request_form")
async def request_form(
    request: Request, principal: PortalPrincipal, session: SessionDep, container: ContainerDep
) -> Response:
    await ChartExportService(session, container).own_patient(principal)
    practitioners = await people_names(session, container, principal)
    return _request_page(request, principal, practitioners=practitioners)


def _window(
    values: dict[str, str], errors: dict[str, str], viewer: ZoneInfo
) -> tuple[str | None, str | None]:
    """ISO start and end of the preferred window (read in the chosen zone, by default the
    viewer's), or field errors; a time skipped by a change to summer time is refused."""
    zone = zone_or_none(values["timezone"]) if values["timezone"] else viewer
    if zone is None:
        errors["timezone"] = "Enter a time zone such as UTC, Europe/Paris or America/New_York."
        return None, None
    try:
        day = date.fromisoformat(values["day"])
    except ValueError:
        errors["day"] = "Enter the day as YYYY-MM-DD."
        return None, None
    clocks: list[time] = []
    for name in ("earliest", "latest"):
        try:
            clocks.append(time.fromisoformat(values[name]))
        except ValueError:
            errors[name] = "Enter the time as HH:MM."
    if errors:
        return None, None
    moments: list[datetime] = []
    for name, clock in zip(("earliest", "latest"), clocks, strict=True):
        try:
            moments.append(from_local(day, clock, zone))
        except NonexistentLocalTime as gap:
            errors[name] = str(gap)
    if errors:
        return None, None
    return moments[0].isoformat(), moments[1].isoformat()


@router.post("/my-chart/appointments/request", name="portal.my_appointment.request")
async def request_appointment(
    request: Request,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    await ChartExportService(session, container).own_patient(principal)
    practitioners = await people_names(session, container, principal)
    values = form_values(form, REQUEST_FIELDS)
    page = {"practitioners": practitioners, "values": values}
    errors: dict[str, str] = {}
    window_start, window_end = _window(values, errors, zone_of(request))
    if not values["practitioner_id"]:
        errors["practitioner_id"] = WORDING["practitioner_id"]
    if errors:
        return _request_page(request, principal, 400, errors=errors, **page)
    body = {
        "practitioner_id": values["practitioner_id"],
        "window_start": window_start,
        "window_end": window_end,
        "reason": values["reason"] or None,
    }
    try:
        data = AppointmentRequestCreate.model_validate(body)
    except ValidationError as error:
        found = field_errors(error, values, WORDING)
        errors = {FIELD_OF.get(name, name): message for name, message in found.items()}
        return _request_page(request, principal, 400, errors=errors, **page)
    try:
        await AppointmentSelfService(session, container).request(principal, data)
    except RequestInvalid as error:
        await discard_changes(session)
        found = app_field_errors(error)
        errors = {FIELD_OF.get(name, name): message for name, message in found.items()}
        return _request_page(
            request, principal, error.status, errors=errors, error=error.detail, **page
        )
    return see_other("/my-chart?notice=requested")


def _cancel_page(
    request: Request, principal: Principal, status_code: int = 200, **values: Any
) -> Response:
    data: dict[str, Any] = {
        "error": None,
        "cutoff_hours": int(CANCEL_CUTOFF.total_seconds() // 3600),
    }
    data.update(values)
    return render(
        request, "my_appointment_cancel.html", data, principal=principal, status_code=status_code
    )


@router.get(
    "/my-chart/appointments/{appointment_id:uuid}/cancel",
    name="portal.my_appointment.cancel_form",
)
async def cancel_form(
    request: Request,
    appointment_id: uuid.UUID,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    """Ask for confirmation, naming the appointment (another patient's is 404)."""
    await ChartExportService(session, container).own_patient(principal)
    appointment = await AppointmentService(session, container).get(principal, appointment_id)
    names = await people_names(session, container, principal)
    return _cancel_page(request, principal, appointment=appointment, names=names)


@router.post(
    "/my-chart/appointments/{appointment_id:uuid}/cancel", name="portal.my_appointment.cancel"
)
async def cancel(
    request: Request,
    appointment_id: uuid.UUID,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    service = AppointmentSelfService(session, container)
    try:
        before = await AppointmentService(session, container).get(principal, appointment_id)
        await service.cancel_own(principal, appointment_id)
    except (AppointmentCancelTooLate, AppointmentNotRequested) as error:
        await discard_changes(session)
        appointment = await AppointmentService(session, container).get(principal, appointment_id)
        names = await people_names(session, container, principal)
        return _cancel_page(
            request,
            principal,
            error.status,
            appointment=appointment,
            names=names,
            error=error.detail,
        )
    notice = "withdrawn" if before.status == REQUESTED else "cancelled"
    return see_other(f"/my-chart?notice={notice}")
