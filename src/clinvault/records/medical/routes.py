"""HTTP routes of medical records: /api/records/."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, status

from clinvault.deps import ContainerDep, PrincipalDep, SessionDep
from clinvault.errors import RequestInvalid
from clinvault.records.http import PageDep, WindowDep
from clinvault.records.medical.repository import RecordFilter
from clinvault.records.medical.schemas import (
    RecordAmendment,
    RecordCatalogue,
    RecordCreate,
    RecordPage,
    RecordRead,
    RecordType,
)
from clinvault.records.medical.service import MedicalRecordService
from clinvault.records.pagination import decode_cursor

router = APIRouter(prefix="/api/records", tags=["medical records"])
patient_records = APIRouter(prefix="/api/patients", tags=["medical records"])

TypeFilter = Annotated[RecordType | None, Query(alias="type", description="Record type")]
IncludeSuperseded = Annotated[
    bool, Query(description="Also list versions replaced by an amendment")
]
MrnFilter = Annotated[
    str | None,
    Query(min_length=1, max_length=32, description="The patient's medical record number"),
]
CursorParam = Annotated[
    str | None,
    Query(
        max_length=200,
        description="`next_cursor` of the previous page: keyset pagination (ignores `page`)",
    ),
]


def _after(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    if cursor is None:
        return None
    try:
        return decode_cursor(cursor)
    except ValueError:
        raise RequestInvalid(
            "cursor must be the next_cursor of a previous page: start again without it.",
            errors=[{"field": "cursor", "in": "query", "message": "not a cursor"}],
        ) from None


@router.post("/", name="records.record.create", status_code=status.HTTP_201_CREATED)
async def create_record(
    body: RecordCreate, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> RecordRead:
    """Add a record to a patient's chart (administrators, doctors, nurses)."""
    return await MedicalRecordService(session, container).create(principal, body)


@router.get("/", name="records.record.list")
async def list_records(
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
    paging: PageDep,
    window: WindowDep,
    patient_id: uuid.UUID | None = None,
    mrn: MrnFilter = None,
    record_type: TypeFilter = None,
    include_superseded: IncludeSuperseded = False,
    cursor: CursorParam = None,
) -> RecordPage:
    """Records in chronological order of `recorded_at`; latest versions only by default.

    Filter by `patient_id` or by the patient's `mrn`; follow `next_cursor` to page on.
    Imported records carry their `provenance`.
    """
    where = RecordFilter(
        patient_id=patient_id,
        record_type=record_type,
        start=window[0],
        stop=window[1],
        include_superseded=include_superseded,
        after=_after(cursor),
    )
    return await MedicalRecordService(session, container).list_records(
        principal, where, paging, mrn=mrn
    )


@router.get("/types", name="records.record.types")
async def record_types(
    principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> RecordCatalogue:
    """The record types and priorities a record may have."""
    return MedicalRecordService(session, container).catalogue(principal)


@patient_records.get("/{patient_id}/records", name="records.record.list_of_patient")
@router.get("/patient/{patient_id}", name="records.record.list_for_patient")
async def list_patient_records(
    patient_id: uuid.UUID,
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
    paging: PageDep,
    window: WindowDep,
    record_type: TypeFilter = None,
    include_superseded: IncludeSuperseded = False,
) -> RecordPage:
    """One patient's records, chronologically (also at /api/patients/{id}/records)."""
    where = RecordFilter(
        record_type=record_type,
        start=window[0],
        stop=window[1],
        include_superseded=include_superseded,
    )
    return await MedicalRecordService(session, container).for_patient(
        principal, patient_id, where, paging
    )


@router.get("/{record_id}", name="records.record.read")
async def read_record(
    record_id: uuid.UUID, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> RecordRead:
    """One version; `superseded_by` names the amendment that replaced it, if any."""
    return await MedicalRecordService(session, container).get(principal, record_id)


@router.post(
    "/{record_id}/amendments",
    name="records.record.amend",
    status_code=status.HTTP_201_CREATED,
)
async def amend_record(
    record_id: uuid.UUID,
    body: RecordAmendment,
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
) -> RecordRead:
    """Create the next version of a record; the amended version is kept unchanged."""
    return await MedicalRecordService(session, container).amend(principal, record_id, body)
