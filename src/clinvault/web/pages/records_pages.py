"""A patient's chart (demographics, records timeline, appointments), new records, My chart."""

from __future__ import annotations

import math
import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.bootstrap import Container
from clinvault.deps import ContainerDep, SessionDep
from clinvault.errors import PatientNotFound, RequestInvalid
from clinvault.identity.principal import Principal, Role
from clinvault.localtime import NonexistentLocalTime, from_local
from clinvault.records import policies
from clinvault.records.appointments.repository import AppointmentFilter
from clinvault.records.appointments.schemas import AppointmentRead
from clinvault.records.appointments.service import AppointmentService
from clinvault.records.medical.repository import RecordFilter
from clinvault.records.medical.schemas import PRIORITIES, RECORD_TYPES, RecordCreate, RecordRead
from clinvault.records.medical.service import MedicalRecordService
from clinvault.records.pagination import MAX_PAGE_SIZE, PageRequest
from clinvault.records.patients.schemas import PatientRead
from clinvault.records.patients.service import PatientService
from clinvault.web.local_time import zone_of
from clinvault.web.pages import form_errors as wording
from clinvault.web.pages.appointments import people_names
from clinvault.web.pages.common import VerifiedForm, discard_changes, portal_router, see_other
from clinvault.web.pages.form_errors import plain_errors
from clinvault.web.pages.licence_flags import own_licence_flag
from clinvault.web.pages.patients import app_field_errors, form_values
from clinvault.web.render import render
from clinvault.web.session import PortalPrincipal

router = portal_router()

TIMELINE_SIZE = 50
SCHEDULE_SIZE = 50
RECORD_FIELDS = ("record_type", "priority", "title", "content", "recorded_at")
TYPE_LABELS = {value: value.replace("_", " ").capitalize() for value in RECORD_TYPES}
CHART_NOTICES = {
    "registered": "Patient registered.",
    "record-added": "Record added to the chart.",
    "booked": "Appointment booked.",
    "cancelled": "Appointment cancelled.",
    "rescheduled": "Appointment rescheduled.",
    "updated": "Patient details saved.",
    "linked": "Patient account linked.",
    "unlinked": "Patient account unlinked.",
}


async def latest_records(
    service: MedicalRecordService, principal: Principal, patient_id: uuid.UUID
) -> tuple[list[RecordRead], int]:
    """The most recent records, newest first, and how many there are in all."""
    where = RecordFilter()
    first = await service.for_patient(
        principal, patient_id, where, PageRequest(page=1, page_size=TIMELINE_SIZE)
    )
    if first.total <= TIMELINE_SIZE:
        return list(reversed(first.items)), first.total
    last_page = math.ceil(first.total / TIMELINE_SIZE)
    last = await service.for_patient(
        principal, patient_id, where, PageRequest(page=last_page, page_size=TIMELINE_SIZE)
    )
    items = (first.items + last.items)[-TIMELINE_SIZE:] if last_page == 2 else last.items
    return list(reversed(items)), first.total


async def patient_appointments(
    service: AppointmentService, principal: Principal, patient_id: uuid.UUID
) -> tuple[list[AppointmentRead], int]:
    result = await service.list_appointments(
        principal,
        AppointmentFilter(patient_id=patient_id),
        PageRequest(page=1, page_size=min(SCHEDULE_SIZE, MAX_PAGE_SIZE)),
    )
    return list(result.items), result.total


async def chart_values(
    session: AsyncSession, container: Container, principal: Principal, patient: PatientRead
) -> dict[str, Any]:
    """Records and appointments of a visible patient, as far as the principal may see them."""
    records: list[RecordRead] = []
    record_total = 0
    can_read_records = policies.can_read_records(principal, patient.user_id)
    if can_read_records:
        service = MedicalRecordService(session, container)
        records, record_total = await latest_records(service, principal, patient.id)
    appointments, appointment_total = await patient_appointments(
        AppointmentService(session, container), principal, patient.id
    )
    names = await people_names(session, container, principal)
    context.describe_resource("patient", patient.id)
    return {
        "patient": patient,
        "records": records,
        "record_total": record_total,
        "can_read_records": can_read_records,
        "appointments": appointments,
        "appointment_total": appointment_total,
        "names": names,
        "type_labels": TYPE_LABELS,
        "now": datetime.now().astimezone(),
    }


@router.get("/patients/{patient_id:uuid}", name="portal.patient.read")
async def chart(
    request: Request,
    patient_id: uuid.UUID,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
    notice: str = "",
) -> Response:
    patient = await PatientService(session, container).get(principal, patient_id)
    values = await chart_values(session, container, principal, patient)
    values.update(
        notice=CHART_NOTICES.get(notice),
        own_chart=False,
        can_write_records=policies.can_write_records(principal),
        can_book=policies.can_book_appointments(principal),
        can_edit_patient=policies.can_update_patient(principal),
        can_link_account=policies.can_link_patient_user(principal),
        can_prescribe=principal.has(Role.DOCTOR, Role.NURSE),
        can_list_prescriptions=principal.has(Role.ORG_ADMIN, Role.DOCTOR, Role.NURSE),
    )
    return render(request, "chart.html", values, principal=principal)


def _record_form(
    request: Request,
    principal: Principal,
    patient: PatientRead,
    status_code: int = 200,
    **values: Any,
) -> Response:
    data: dict[str, Any] = {
        "patient": patient,
        "values": {**dict.fromkeys(RECORD_FIELDS, ""), "priority": "normal"},
        "errors": {},
        "error": None,
        "record_types": RECORD_TYPES,
        "type_labels": TYPE_LABELS,
        "priorities": PRIORITIES,
        "own_flag": None,  # the writer's own licence flag, where the page shows it
    }
    data.update(values)
    return render(
        request, "patients_record_new.html", data, principal=principal, status_code=status_code
    )


async def _writable_patient(
    session: AsyncSession, container: Container, principal: Principal, patient_id: uuid.UUID
) -> PatientRead:
    patient = await PatientService(session, container).get(principal, patient_id)
    policies.require(
        policies.can_write_records(principal),
        "Only administrators, doctors and nurses write medical records.",
    )
    return patient


def _recorded_at(text: str, zone: ZoneInfo) -> str | None:
    """A datetime-local value read on the viewer's wall clock, as a UTC ISO instant.

    Anything else is passed on for the schema to refuse; a time skipped by a
    change to summer time raises NonexistentLocalTime.
    """
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is not None:
        return text
    return from_local(moment.date(), moment.time(), zone).isoformat()


@router.get("/patients/{patient_id:uuid}/records/new", name="portal.record.new")
async def new_record(
    request: Request,
    patient_id: uuid.UUID,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    patient = await _writable_patient(session, container, principal, patient_id)
    own_flag = await own_licence_flag(session, container, principal)
    return _record_form(request, principal, patient, own_flag=own_flag)


@router.post("/patients/{patient_id:uuid}/records/new", name="portal.record.create")
async def create_record(
    request: Request,
    patient_id: uuid.UUID,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    patient = await _writable_patient(session, container, principal, patient_id)
    values = form_values(form, RECORD_FIELDS)
    body: dict[str, Any] = {
        "patient_id": str(patient.id),
        "record_type": values["record_type"] or None,
        "priority": values["priority"] or "normal",
        "title": values["title"] or None,
        "content": values["content"] or None,
    }
    try:
        recorded_at = _recorded_at(values["recorded_at"], zone_of(request))
    except NonexistentLocalTime as gap:
        errors = {"recorded_at": str(gap)}
        return _record_form(request, principal, patient, 400, values=values, errors=errors)
    if recorded_at is not None:
        body["recorded_at"] = recorded_at
    try:
        data = RecordCreate.model_validate(body)
    except ValidationError as error:
        errors = plain_errors(error, values, wording.RECORD)
        return _record_form(request, principal, patient, 400, values=values, errors=errors)
    try:
        await MedicalRecordService(session, container).create(principal, data)
    except (RequestInvalid, PatientNotFound) as error:
        await discard_changes(session)
        errors = app_field_errors(error)
        return _record_form(
            request,
            principal,
            patient,
            error.status,
            values=values,
            errors=errors,
            error=None if errors else error.detail,
        )
    return see_other(f"/patients/{patient.id}?notice=record-added")
