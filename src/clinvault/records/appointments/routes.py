"""HTTP routes of appointments: /api/appointments/."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from clinvault.deps import ContainerDep, PrincipalDep, SessionDep
from clinvault.records.appointments.repository import AppointmentFilter
from clinvault.records.appointments.schemas import (
    AppointmentCreate,
    AppointmentPage,
    AppointmentRead,
    AppointmentUpdate,
    Status,
)
from clinvault.records.appointments.service import AppointmentService
from clinvault.records.http import PageDep, WindowDep

router = APIRouter(prefix="/api/appointments", tags=["appointments"])


@router.post("/", name="records.appointment.book", status_code=status.HTTP_201_CREATED)
async def book_appointment(
    body: AppointmentCreate, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> AppointmentRead:
    """Book a slot (administrators, clerks); 409 names a clashing slot of the practitioner."""
    return await AppointmentService(session, container).book(principal, body)


@router.get("/", name="records.appointment.list")
async def list_appointments(
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
    paging: PageDep,
    window: WindowDep,
    practitioner_id: uuid.UUID | None = None,
    patient_id: uuid.UUID | None = None,
    status_filter: Annotated[Status | None, Query(alias="status")] = None,
) -> AppointmentPage:
    """A schedule in time order: slots overlapping [from, to); a patient sees their own."""
    where = AppointmentFilter(
        practitioner_id=practitioner_id,
        patient_id=patient_id,
        status=status_filter,
        start=window[0],
        stop=window[1],
    )
    return await AppointmentService(session, container).list_appointments(principal, where, paging)


@router.get("/{appointment_id}", name="records.appointment.read")
async def read_appointment(
    appointment_id: uuid.UUID, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> AppointmentRead:
    return await AppointmentService(session, container).get(principal, appointment_id)


@router.put("/{appointment_id}", name="records.appointment.reschedule")
async def reschedule_appointment(
    appointment_id: uuid.UUID,
    body: AppointmentUpdate,
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
) -> AppointmentRead:
    """Move a slot or change its practitioner or reason (administrators, clerks)."""
    return await AppointmentService(session, container).reschedule(principal, appointment_id, body)


@router.post("/{appointment_id}/cancel", name="records.appointment.cancel")
async def cancel_appointment(
    appointment_id: uuid.UUID, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> AppointmentRead:
    """Mark cancelled (the appointment is kept and frees the slot)."""
    return await AppointmentService(session, container).cancel(principal, appointment_id)
