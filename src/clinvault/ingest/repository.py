"""All SQL of CSV ingest; every query is tenant-scoped except the job runner's `*_global`."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.batching import pages
from clinvault.models.ingest import IngestJob, IngestRowError, IngestSettings, IngestUpload
from clinvault.models.objects import EncryptedObject
from clinvault.records.pagination import PageRequest

REPORTABLE = ("completed", "completed_with_errors")
_ERRORS: Any = IngestRowError.__table__


class IngestRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: IngestUpload | IngestJob | EncryptedObject | IngestSettings) -> None:
        self.session.add(row)
        await self.session.flush()

    async def upload(self, upload_id: uuid.UUID, *, tenant: uuid.UUID) -> IngestUpload | None:
        found: IngestUpload | None = await self.session.scalar(
            select(IngestUpload).where(
                IngestUpload.id == upload_id, IngestUpload.organization_id == tenant
            )
        )
        return found

    async def set_upload_status(
        self, upload_id: uuid.UUID, *, tenant: uuid.UUID, old: str, new: str, at: datetime
    ) -> bool:
        """Move the upload from `old` to `new`; False when it was not in `old` (single use)."""
        result = await self.session.execute(
            update(IngestUpload)
            .where(
                IngestUpload.id == upload_id,
                IngestUpload.organization_id == tenant,
                IngestUpload.status == old,
            )
            .values(status=new, received_at=at)
            .execution_options(synchronize_session=False)
        )
        assert isinstance(result, CursorResult)
        return int(result.rowcount) == 1

    async def job(self, job_id: uuid.UUID, *, tenant: uuid.UUID) -> IngestJob | None:
        found: IngestJob | None = await self.session.scalar(
            select(IngestJob).where(IngestJob.id == job_id, IngestJob.organization_id == tenant)
        )
        return found

    async def job_global(self, job_id: uuid.UUID) -> IngestJob | None:
        """For the job runner, which holds ids only."""
        found: IngestJob | None = await self.session.scalar(
            select(IngestJob).where(IngestJob.id == job_id)
        )
        return found

    async def job_of_upload(self, upload_id: uuid.UUID, *, tenant: uuid.UUID) -> IngestJob | None:
        found: IngestJob | None = await self.session.scalar(
            select(IngestJob).where(
                IngestJob.upload_id == upload_id, IngestJob.organization_id == tenant
            )
        )
        return found

    async def jobs(
        self, *, tenant: uuid.UUID, request: PageRequest
    ) -> tuple[Sequence[IngestJob], int]:
        query = select(IngestJob).where(IngestJob.organization_id == tenant)
        total = await self.session.scalar(select(func.count()).select_from(query.subquery()))
        rows = (
            await self.session.scalars(
                query.order_by(IngestJob.created_at.desc(), IngestJob.id.desc())
                .limit(request.limit)
                .offset(request.offset)
            )
        ).all()
        return rows, int(total or 0)

    async def earlier_import(
        self, sha256: str, *, tenant: uuid.UUID, other_than: uuid.UUID
    ) -> uuid.UUID | None:
        found: uuid.UUID | None = await self.session.scalar(
            select(IngestJob.id)
            .where(
                IngestJob.organization_id == tenant,
                IngestJob.sha256 == sha256,
                IngestJob.id != other_than,
                IngestJob.dry_run.is_(False),
                IngestJob.state.in_(REPORTABLE),
            )
            .order_by(IngestJob.created_at)
            .limit(1)
        )
        return found

    async def unfinished_jobs_global(
        self, states: Sequence[str], *, created_before: datetime | None = None
    ) -> Sequence[uuid.UUID]:
        query = select(IngestJob.id).where(IngestJob.state.in_(states))
        if created_before is not None:
            query = query.where(IngestJob.created_at < created_before)
        rows = await self.session.scalars(query.order_by(IngestJob.id))
        return rows.all()

    async def object(self, object_id: uuid.UUID, *, tenant: uuid.UUID) -> EncryptedObject | None:
        found: EncryptedObject | None = await self.session.scalar(
            select(EncryptedObject).where(
                EncryptedObject.id == object_id, EncryptedObject.organization_id == tenant
            )
        )
        return found

    async def add_errors(self, rows: list[dict[str, Any]]) -> None:
        for page in pages(rows):  # a few statement shapes (clinvault.batching)
            await self.session.execute(insert(_ERRORS), page)

    async def errors(
        self, job_id: uuid.UUID, *, tenant: uuid.UUID
    ) -> AsyncGenerator[IngestRowError, None]:
        """The job's rejected rows in line order, streamed."""
        result = await self.session.stream_scalars(
            select(IngestRowError)
            .where(IngestRowError.job_id == job_id, IngestRowError.organization_id == tenant)
            .order_by(IngestRowError.line, IngestRowError.id)
            .execution_options(yield_per=1000)
        )
        async for row in result:
            yield row

    async def settings(self, *, tenant: uuid.UUID) -> IngestSettings | None:
        found: IngestSettings | None = await self.session.scalar(
            select(IngestSettings).where(IngestSettings.organization_id == tenant)
        )
        return found
