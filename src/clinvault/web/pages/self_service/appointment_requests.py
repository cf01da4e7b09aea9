"""The front desk's list of patients' appointment requests, with Confirm and Decline.

Confirm books the request at a start the clerk picks among the half hours of
the patient's window (the window's start by default); a clash with another booking is shown
on the list and nothing is booked. Decline tells the patient in the portal.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from fastapi import Request, Response

from clinvault import context
from clinvault.deps import ContainerDep, SessionDep
from clinvault.errors import AppointmentClash, Conflict, RequestInvalid
from clinvault.records import policies
from clinvault.records.appointments.repository import AppointmentFilter
from clinvault.records.appointments.requests import AppointmentSelfService
from clinvault.records.appointments.schemas import REQUESTED, AppointmentRead, RequestConfirm
from clinvault.records.appointments.service import AppointmentService
from clinvault.records.pagination import MAX_PAGE_SIZE, PageRequest
from clinvault.web.pages.appointments import people_names
from clinvault.web.pages.common import VerifiedForm, discard_changes, portal_router, see_other
from clinvault.web.pages.patients import form_values
from clinvault.web.pages.self_service.names import patient_names
from clinvault.web.render import render
from clinvault.web.session import PortalPrincipal

router = portal_router()

NOTICES = {
    "confirmed": "Request confirmed: the appointment is booked.",
    "declined": "Request declined.",
}
DURATIONS = ("15", "30", "45", "60")
STEP = timedelta(minutes=30)


async def _page(
    request: Request,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
    *,
    notice: str | None = None,
    error: str | None = None,
    failed: uuid.UUID | None = None,
    status_code: int = 200,
) -> Response:
    policies.require(
        policies.can_book_appointments(principal),
        "Only administrators and clerks confirm appointment requests.",
    )
    result = await AppointmentService(session, container).list_appointments(
        principal,
        AppointmentFilter(status=REQUESTED, start=datetime.now(UTC)),
        PageRequest(page=1, page_size=MAX_PAGE_SIZE),
    )
    patients = await patient_names(
        session, container, principal, {item.patient_id for item in result.items}
    )
    context.describe_resource("appointment")
    values = {
        "starts": {item.id: _starts(item) for item in result.items},
        "result": result,
        "patients": patients,
        "names": await people_names(session, container, principal),
        "durations": DURATIONS,
        "notice": notice,
        "error": error,
        "failed": failed,
    }
    return render(
        request, "appointment_requests.html", values, principal=principal, status_code=status_code
    )


@router.get("/appointments/requests", name="portal.appointment.requests")
async def requests_list(
    request: Request,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
    notice: str = "",
) -> Response:
    return await _page(request, principal, session, container, notice=NOTICES.get(notice))


@router.post(
    "/appointments/requests/{appointment_id:uuid}/confirm", name="portal.appointment.confirm"
)
async def confirm(
    request: Request,
    appointment_id: uuid.UUID,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    values = form_values(form, ("starts_at", "minutes"))
    service = AppointmentSelfService(session, container)
    try:
        starts_at = datetime.fromisoformat(values["starts_at"]) if values["starts_at"] else None
        minutes = int(values["minutes"]) if values["minutes"] in DURATIONS else 30
        data = RequestConfirm(starts_at=starts_at, minutes=minutes)
        await service.confirm(principal, appointment_id, data)
    except (ValueError, AppointmentClash, Conflict, RequestInvalid) as error:
        await discard_changes(session)
        detail = getattr(error, "detail", "Choose a start time from the list.")
        if isinstance(error, AppointmentClash):
            detail = "The practitioner is already booked at that time: choose another time."
        status = getattr(error, "status", 400)
        return await _page(
            request,
            principal,
            session,
            container,
            error=detail,
            failed=appointment_id,
            status_code=status,
        )
    return see_other("/appointments/requests?notice=confirmed")


def _starts(item: AppointmentRead) -> list[datetime]:
    """The half hours of a request's window, its first start included (at most 25)."""
    end = item.requested_until or item.starts_at
    starts = [item.starts_at]
    while starts[-1] + STEP <= end and len(starts) < 25:
        starts.append(starts[-1] + STEP)
    return starts


@router.post(
    "/appointments/requests/{appointment_id:uuid}/decline", name="portal.appointment.decline"
)
async def decline(
    request: Request,
    appointment_id: uuid.UUID,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    try:
        await AppointmentSelfService(session, container).decline(principal, appointment_id)
    except Conflict as error:
        await discard_changes(session)
        return await _page(
            request,
            principal,
            session,
            container,
            error=error.detail,
            failed=appointment_id,
            status_code=error.status,
        )
    return see_other("/appointments/requests?notice=declined")
