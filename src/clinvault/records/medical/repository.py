"""All SQL of medical records and their attachments; every query is tenant-scoped."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.models.objects import EncryptedObject
from clinvault.models.records import MedicalRecord, RecordAttachment
from clinvault.records.pagination import PageRequest


@dataclass(frozen=True, slots=True)
class RecordFilter:
    patient_id: uuid.UUID | None = None
    record_type: str | None = None
    start: datetime | None = None
    stop: datetime | None = None
    include_superseded: bool = False
    # Keyset pagination: only records after this (recorded_at, id), in that order.
    after: tuple[datetime, uuid.UUID] | None = None


class MedicalRecordRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: MedicalRecord | RecordAttachment | EncryptedObject) -> None:
        self.session.add(row)
        await self.session.flush()

    async def get(self, record_id: uuid.UUID, *, tenant: uuid.UUID) -> MedicalRecord | None:
        result: MedicalRecord | None = await self.session.scalar(
            select(MedicalRecord).where(
                MedicalRecord.id == record_id, MedicalRecord.organization_id == tenant
            )
        )
        return result

    async def page(
        self, where: RecordFilter, *, tenant: uuid.UUID, request: PageRequest
    ) -> tuple[Sequence[MedicalRecord], int]:
        query = select(MedicalRecord).where(MedicalRecord.organization_id == tenant)
        if where.patient_id is not None:
            query = query.where(MedicalRecord.patient_id == where.patient_id)
        if where.record_type is not None:
            query = query.where(MedicalRecord.record_type == where.record_type)
        if where.start is not None:
            query = query.where(MedicalRecord.recorded_at >= where.start)
        if where.stop is not None:
            query = query.where(MedicalRecord.recorded_at < where.stop)
        if not where.include_superseded:
            query = query.where(MedicalRecord.superseded_by_id.is_(None))
        total = await self.session.scalar(select(func.count()).select_from(query.subquery()))
        if where.after is not None:
            moment, last_id = where.after
            query = query.where(
                or_(
                    MedicalRecord.recorded_at > moment,
                    and_(MedicalRecord.recorded_at == moment, MedicalRecord.id > last_id),
                )
            )
        ordered = query.order_by(MedicalRecord.recorded_at, MedicalRecord.id).limit(request.limit)
        if where.after is None:
            ordered = ordered.offset(request.offset)
        rows = (await self.session.scalars(ordered)).all()
        return rows, int(total or 0)

    async def mark_superseded(
        self, record_id: uuid.UUID, by: uuid.UUID, *, tenant: uuid.UUID
    ) -> bool:
        """Point the version at its successor, unless another amendment got there first."""
        result = await self.session.execute(
            update(MedicalRecord)
            .where(
                MedicalRecord.id == record_id,
                MedicalRecord.organization_id == tenant,
                MedicalRecord.superseded_by_id.is_(None),
            )
            .values(superseded_by_id=by)
            .execution_options(synchronize_session=False)
        )
        assert isinstance(result, CursorResult)
        return int(result.rowcount) == 1

    async def attachments(
        self, record_ids: Sequence[uuid.UUID], *, tenant: uuid.UUID
    ) -> Sequence[tuple[RecordAttachment, EncryptedObject]]:
        if not record_ids:
            return []
        rows = await self.session.execute(
            select(RecordAttachment, EncryptedObject)
            .join(EncryptedObject, EncryptedObject.id == RecordAttachment.object_id)
            .where(
                RecordAttachment.organization_id == tenant,
                RecordAttachment.record_id.in_(list(record_ids)),
            )
            .order_by(RecordAttachment.id)
        )
        return [(row[0], row[1]) for row in rows]

    async def attachment(
        self, attachment_id: uuid.UUID, *, record_id: uuid.UUID, tenant: uuid.UUID
    ) -> tuple[RecordAttachment, EncryptedObject] | None:
        row = (
            await self.session.execute(
                select(RecordAttachment, EncryptedObject)
                .join(EncryptedObject, EncryptedObject.id == RecordAttachment.object_id)
                .where(
                    RecordAttachment.id == attachment_id,
                    RecordAttachment.record_id == record_id,
                    RecordAttachment.organization_id == tenant,
                )
            )
        ).first()
        return None if row is None else (row[0], row[1])
