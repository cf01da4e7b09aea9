"""Medical record use cases: record, list chronologically, read, amend.

A record is never edited: an amendment is a new version that `supersedes`
the previous one, which keeps its content and gains `superseded_by`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.bootstrap import Container
from clinvault.errors import MedicalRecordNotFound, MedicalRecordSuperseded, PatientNotFound
from clinvault.identity.principal import Principal
from clinvault.models.records import MedicalRecord
from clinvault.records import policies
from clinvault.records.medical.repository import MedicalRecordRepository, RecordFilter
from clinvault.records.medical.schemas import (
    PRIORITIES,
    RECORD_TYPES,
    AttachmentRead,
    RecordAmendment,
    RecordCatalogue,
    RecordCreate,
    RecordPage,
    RecordProvenance,
    RecordRead,
    RecordTypeRead,
)
from clinvault.records.pagination import PageRequest, encode_cursor
from clinvault.records.patients.service import PATIENT_NOT_FOUND, PatientService
from clinvault.records.policies import require
from clinvault.timeutil import utcnow

log = structlog.get_logger(__name__)

RECORD_NOT_FOUND = "No medical record with this id in your organization: check the id."
WRITE_DENIED = "Only administrators, doctors and nurses write medical records."
READ_DENIED = "Your role cannot view medical records."
MAX_VERSIONS = 100


class MedicalRecordService:
    def __init__(self, session: AsyncSession, container: Container) -> None:
        self.session = session
        self.container = container
        self.repository = MedicalRecordRepository(session)
        self.patients = PatientService(session, container)

    async def create(self, principal: Principal, data: RecordCreate) -> RecordRead:
        context.describe_resource("medical_record")
        require(policies.can_write_records(principal), WRITE_DENIED)
        patient = await self.patients.lookup(principal, data.patient_id)
        if patient is None:
            raise PatientNotFound(PATIENT_NOT_FOUND)
        record = await record_entry(
            self.session,
            organization_id=principal.organization_id,
            patient_id=patient.id,
            data=data,
            author_id=principal.user_id,
        )
        context.describe_resource("medical_record", record.id)
        return (await self._read([record]))[0]

    async def list_records(
        self,
        principal: Principal,
        where: RecordFilter,
        request: PageRequest,
        *,
        mrn: str | None = None,
    ) -> RecordPage:
        context.describe_resource("medical_record")
        require(policies.can_list_records(principal), READ_DENIED)
        if mrn is not None:
            patient = await self.patients.lookup_mrn(principal, mrn)
            if patient is None or where.patient_id not in (None, patient.id):
                raise PatientNotFound(
                    "No patient with this medical record number in your organization: check it."
                )
            where = replace(where, patient_id=patient.id)
        if policies.acts_as_patient(principal):
            own = await self.patients.own_patient_id(principal)
            if where.patient_id is not None and where.patient_id != own:
                raise PatientNotFound(PATIENT_NOT_FOUND)
            if own is None:
                return _page([], 0, request)
            where = replace(where, patient_id=own)
        elif (
            where.patient_id is not None
            and await self.patients.lookup(principal, where.patient_id) is None
        ):
            raise PatientNotFound(PATIENT_NOT_FOUND)
        rows, total = await self.repository.page(
            where, tenant=principal.organization_id, request=request
        )
        return _page(await self._read(rows), total, request)

    async def for_patient(
        self, principal: Principal, patient_id: uuid.UUID, where: RecordFilter, request: PageRequest
    ) -> RecordPage:
        patient = await self.patients.visible_patient(principal, patient_id)
        require(policies.can_read_records(principal, patient.user_id), READ_DENIED)
        return await self.list_records(principal, replace(where, patient_id=patient.id), request)

    async def get(self, principal: Principal, record_id: uuid.UUID) -> RecordRead:
        record = await self.visible_record(principal, record_id)
        return (await self._read([record]))[0]

    async def amend(
        self, principal: Principal, record_id: uuid.UUID, data: RecordAmendment
    ) -> RecordRead:
        previous = await self.visible_record(principal, record_id, write=True)
        if previous.superseded_by_id is not None:
            raise MedicalRecordSuperseded(
                f"This version was already amended by {previous.superseded_by_id}: amend the "
                "latest version."
            )
        amended = MedicalRecord(
            organization_id=previous.organization_id,
            patient_id=previous.patient_id,
            record_type=data.record_type or previous.record_type,
            priority=data.priority or previous.priority,
            title=data.title or previous.title,
            content=data.content or previous.content,
            author_id=principal.user_id,
            recorded_at=data.recorded_at or previous.recorded_at,
            version=previous.version + 1,
            supersedes_id=previous.id,
        )
        try:
            await self.repository.add(amended)
        except IntegrityError:
            raise MedicalRecordSuperseded(
                "Another amendment of this version was saved just now: read the record again "
                "and amend the latest version."
            ) from None
        if not await self.repository.mark_superseded(
            previous.id, amended.id, tenant=previous.organization_id
        ):
            raise MedicalRecordSuperseded("This version was just amended: amend the latest one.")
        previous.superseded_by_id = amended.id
        context.describe_resource("medical_record", amended.id)
        log.info(
            "records.medical_record.amended", record_id=str(amended.id), previous=str(previous.id)
        )
        return (await self._read([amended]))[0]

    async def versions(self, principal: Principal, record_id: uuid.UUID) -> list[RecordRead]:
        """Every version of the record this one belongs to, oldest first."""
        record = await self.visible_record(principal, record_id)
        chain = [record]
        while chain[0].supersedes_id is not None and len(chain) < MAX_VERSIONS:
            earlier = await self.repository.get(
                chain[0].supersedes_id, tenant=principal.organization_id
            )
            if earlier is None:
                break
            chain.insert(0, earlier)
        while chain[-1].superseded_by_id is not None and len(chain) < MAX_VERSIONS:
            later = await self.repository.get(
                chain[-1].superseded_by_id, tenant=principal.organization_id
            )
            if later is None:
                break
            chain.append(later)
        context.describe_resource("medical_record", record.id)
        return await self._read(chain)

    def catalogue(self, principal: Principal) -> RecordCatalogue:
        context.describe_resource("medical_record_type")
        require(policies.can_read_record_catalogue(principal), READ_DENIED)
        return RecordCatalogue(
            record_types=[
                RecordTypeRead(value=value, label=value.replace("_", " ").capitalize())
                for value in RECORD_TYPES
            ],
            priorities=list(PRIORITIES),
        )

    async def visible_record(
        self, principal: Principal, record_id: uuid.UUID, *, write: bool = False
    ) -> MedicalRecord:
        """The record if its patient is visible to the principal (else 404), and allowed."""
        context.describe_resource("medical_record", record_id)
        record = await self.repository.get(record_id, tenant=principal.organization_id)
        patient = (
            None if record is None else await self.patients.lookup(principal, record.patient_id)
        )
        if record is None or patient is None:
            raise MedicalRecordNotFound(RECORD_NOT_FOUND)
        if write:
            require(policies.can_write_records(principal), WRITE_DENIED)
        else:
            require(policies.can_read_records(principal, patient.user_id), READ_DENIED)
        return record

    async def _read(self, records: Sequence[MedicalRecord]) -> list[RecordRead]:
        tenant = records[0].organization_id if records else None
        files: dict[uuid.UUID, list[AttachmentRead]] = {}
        if tenant is not None:
            for attachment, stored in await self.repository.attachments(
                [record.id for record in records], tenant=tenant
            ):
                files.setdefault(attachment.record_id, []).append(
                    AttachmentRead(
                        id=attachment.id,
                        filename=attachment.filename,
                        content_type=attachment.content_type,
                        size=attachment.size,
                        sha256=stored.sha256,
                        created_at=attachment.created_at,
                    )
                )
        return [record_read(record, files.get(record.id, [])) for record in records]


async def record_entry(
    session: AsyncSession,
    *,
    organization_id: uuid.UUID,
    patient_id: uuid.UUID,
    data: RecordCreate,
    author_id: uuid.UUID | None,
) -> MedicalRecord:
    """Insert a first version without permission checks (services, demo data, imports)."""
    record = MedicalRecord(
        organization_id=organization_id,
        patient_id=patient_id,
        record_type=data.record_type,
        priority=data.priority,
        title=data.title,
        content=data.content,
        author_id=author_id,
        recorded_at=data.recorded_at or utcnow(),
        version=1,
    )
    await MedicalRecordRepository(session).add(record)
    log.info("records.medical_record.created", record_id=str(record.id))
    return record


def record_read(record: MedicalRecord, attachments: list[AttachmentRead]) -> RecordRead:
    return RecordRead(
        id=record.id,
        patient_id=record.patient_id,
        record_type=record.record_type,
        title=record.title,
        content=record.content,
        priority=record.priority,
        author_id=record.author_id,
        recorded_at=record.recorded_at,
        created_at=record.created_at,
        version=record.version,
        supersedes=record.supersedes_id,
        superseded_by=record.superseded_by_id,
        attachments=attachments,
        provenance=_provenance(record),
    )


def _provenance(record: MedicalRecord) -> RecordProvenance | None:
    if record.import_job_id is None or record.import_row is None:
        return None
    return RecordProvenance(
        source_file=record.import_source or "",
        job_id=record.import_job_id,
        row_number=record.import_row,
        processed_at=record.processed_at or record.created_at,
    )


def _page(items: list[RecordRead], total: int, request: PageRequest) -> RecordPage:
    last = items[-1] if len(items) == request.page_size else None
    return RecordPage(
        items=items,
        total=total,
        page=request.page,
        page_size=request.page_size,
        next_cursor=None if last is None else encode_cursor(last.recorded_at, last.id),
    )
