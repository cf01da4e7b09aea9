"""HTTP routes of patient self-service on appointments: request one, cancel one's own."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from clinvault.api_contract import problem_responses
from clinvault.deps import ContainerDep, PrincipalDep, SessionDep
from clinvault.records.appointments.requests import AppointmentSelfService
from clinvault.records.appointments.schemas import (
    AppointmentRead,
    AppointmentRequestCreate,
    RequestConfirm,
)

router = APIRouter(prefix="/api/appointments", tags=["appointments"])


@router.post("/requests", name="records.appointment.request", status_code=status.HTTP_201_CREATED)
async def request_appointment(
    body: AppointmentRequestCreate,
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
) -> AppointmentRead:
    """A patient asks for an appointment in a preferred window (status `requested`)."""
    return await AppointmentSelfService(session, container).request(principal, body)


@router.post(
    "/{appointment_id}/patient-cancel",
    name="records.appointment.patient_cancel",
    responses=problem_responses(409),
)
async def patient_cancel(
    appointment_id: uuid.UUID, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> AppointmentRead:
    """The patient cancels their own appointment, up to 24 hours before it starts (409 after)."""
    return await AppointmentSelfService(session, container).cancel_own(principal, appointment_id)


@router.post(
    "/{appointment_id}/confirm",
    name="records.appointment.confirm",
    responses=problem_responses(409),
)
async def confirm_request(
    appointment_id: uuid.UUID,
    body: RequestConfirm,
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
) -> AppointmentRead:
    """Front desk: book a patient's request (409 when it is not a pending request)."""
    return await AppointmentSelfService(session, container).confirm(principal, appointment_id, body)


@router.post(
    "/{appointment_id}/decline",
    name="records.appointment.decline",
    responses=problem_responses(409),
)
async def decline_request(
    appointment_id: uuid.UUID, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> AppointmentRead:
    """Front desk: decline a patient's request (409 when it is not a pending request)."""
    return await AppointmentSelfService(session, container).decline(principal, appointment_id)
