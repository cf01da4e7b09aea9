"""CSV ingest use cases: signed uploads, receiving the file, jobs, error reports, settings.

Portal pages call these too: `create_upload`, `receive` (the embedded PUT),
`complete`, `list_jobs`, `get_job`, `cancel`, `error_report`, `settings` and
`change_settings`. Every lookup is tenant-scoped: another organization's
upload or job is a 404.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, AsyncIterable
from contextlib import aclosing
from dataclasses import dataclass
from datetime import timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.bootstrap import Container
from clinvault.crypto.ports import WrappedKey
from clinvault.db import after_commit
from clinvault.errors.ingest import (
    IngestFileRejected,
    IngestFileTooLarge,
    IngestJobFinished,
    IngestJobNotFound,
    IngestReportMissing,
    IngestUploadIncomplete,
    IngestUploadNotFound,
    IngestUploadUndeclared,
    IngestUrlUsed,
)
from clinvault.identity.principal import Principal
from clinvault.ingest import direct, policies
from clinvault.ingest import storage as keys
from clinvault.ingest.parser import HEAD_BYTES, FileProblem, check_head
from clinvault.ingest.repository import IngestRepository
from clinvault.ingest.schemas import (
    FINISHED_STATES,
    JobPage,
    JobRead,
    SettingsRead,
    SettingsUpdate,
    UploadCreate,
    UploadTicket,
)
from clinvault.ingest.signing import EmbeddedUploadSigner, UploadGrant
from clinvault.ingest.views import job_read
from clinvault.models.ingest import IngestJob, IngestSettings, IngestUpload
from clinvault.models.objects import EncryptedObject
from clinvault.records.pagination import Page, PageRequest
from clinvault.records.policies import require
from clinvault.timeutil import utcnow

log = structlog.get_logger(__name__)

UPLOAD_NOT_FOUND = "No upload with this id in your organization: check the id."
JOB_NOT_FOUND = "No import job with this id in your organization: check the id."
IMPORT_DENIED = "Only organization administrators and clerks import records."
READ_DENIED = "Your role cannot view import jobs."


@dataclass(frozen=True, slots=True)
class RejectedLine:
    line: int
    column: str | None
    code: str
    message: str


def signer(container: Container) -> EmbeddedUploadSigner:
    return EmbeddedUploadSigner(container.keys, container.settings.public_url)


class IngestService:
    def __init__(self, session: AsyncSession, container: Container) -> None:
        self.session = session
        self.container = container
        self.repository = IngestRepository(session)

    async def create_upload(
        self, principal: Principal, data: UploadCreate, *, presign: bool = False
    ) -> UploadTicket:
        """An upload URL. With `presign` (the API) and S3 storage: a presigned PUT of the
        declared file straight to the bucket; else clinvault's own signed PUT."""
        context.describe_resource("ingest_upload")
        require(policies.can_import(principal), IMPORT_DENIED)
        declared = None
        if presign and direct.direct_storage(self.container) is not None:
            if data.size is None or data.sha256 is None:
                raise IngestUploadUndeclared(
                    "With S3 storage the file goes straight to the bucket: declare it by "
                    "sending its size in bytes and its SHA-256 (64 hexadecimal characters) "
                    "as size and sha256."
                )
            declared = (data.size, data.sha256.lower())
        return await self.new_upload(
            principal.organization_id,
            principal.account_id,
            data.filename,
            data.dry_run,
            data.timezone,
            declared=declared,
            client_id=principal.user_id if principal.is_client else None,
        )

    async def new_upload(
        self,
        organization_id: uuid.UUID,
        user_id: uuid.UUID | None,
        filename: str,
        dry_run: bool,
        timezone: str | None,
        *,
        declared: tuple[int, str] | None = None,
        client_id: uuid.UUID | None = None,
    ) -> UploadTicket:
        """An upload; `declared` (size, SHA-256) makes it a presigned PUT to S3."""
        now = utcnow()
        policy = self.container.settings.ingest
        if declared is not None and declared[0] > policy.max_file_bytes:
            raise IngestFileTooLarge(
                f"The file is larger than {policy.max_file_bytes} bytes: split it into "
                "smaller files."
            )
        upload = IngestUpload(
            organization_id=organization_id,
            created_by=user_id,
            created_by_client=client_id,
            storage_key=keys.upload_key(organization_id, now, declared and declared[1]),
            filename=filename,
            status="pending" if declared is None else direct.PRESIGNED,
            expires_at=now + timedelta(minutes=policy.upload_minutes),
            max_bytes=policy.max_file_bytes if declared is None else declared[0],
            dry_run=dry_run,
            timezone=timezone,
        )
        await self.repository.add(upload)
        context.describe_resource("ingest_upload", upload.id)
        bucket = direct.direct_storage(self.container)
        if declared is not None and bucket is not None:
            url, headers = direct.presign(bucket, upload, declared[1])
            base = self.container.settings.public_url.rstrip("/")
            return UploadTicket(
                upload_id=upload.id,
                url=url,
                headers=headers,
                complete_url=f"{base}/api/ingest/uploads/{upload.id}/complete",
                expires_at=upload.expires_at,
                max_bytes=upload.max_bytes,
            )
        grant = UploadGrant(
            upload.id, organization_id, upload.storage_key, upload.expires_at, upload.max_bytes
        )
        return UploadTicket(
            upload_id=upload.id,
            url=signer(self.container).url(grant),
            expires_at=upload.expires_at,
            max_bytes=upload.max_bytes,
        )

    async def claim(self, upload_id: uuid.UUID, organization_id: uuid.UUID) -> None:
        """Mark the upload as being received (its own transaction); a second use is refused."""
        if not await self.repository.set_upload_status(
            upload_id, tenant=organization_id, old="pending", new="receiving", at=utcnow()
        ):
            if await self.repository.upload(upload_id, tenant=organization_id) is None:
                raise IngestUploadNotFound(UPLOAD_NOT_FOUND)
            raise IngestUrlUsed(
                "This upload URL was already used: request a new one with POST /api/ingest/uploads."
            )

    async def release(self, upload_id: uuid.UUID, organization_id: uuid.UUID) -> None:
        """Let a refused file be sent again with the same URL (its own transaction)."""
        await self.repository.set_upload_status(
            upload_id, tenant=organization_id, old="receiving", new="pending", at=utcnow()
        )

    async def receive(
        self,
        upload_id: uuid.UUID,
        organization_id: uuid.UUID,
        chunks: AsyncIterable[bytes],
        *,
        start: bool = True,
    ) -> JobRead:
        """Store the claimed upload's bytes encrypted, check the head, create and start the job.

        With `start=False` the job is only created: the caller runs it in-process
        (`clinvault ingest`). Raises (after removing the object) when the file is too
        large or cannot be a CSV.
        """
        context.describe_resource("ingest_upload", upload_id)
        upload = await self.repository.upload(upload_id, tenant=organization_id)
        if upload is None:
            raise IngestUploadNotFound(UPLOAD_NOT_FOUND)
        head = bytearray()
        limit = upload.max_bytes

        async def measured() -> AsyncGenerator[bytes, None]:
            size = 0
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise IngestFileTooLarge(
                        f"The file is larger than {limit} bytes: split it into smaller files."
                    )
                if len(head) < HEAD_BYTES:
                    head.extend(chunk[: HEAD_BYTES - len(head)])
                yield chunk

        try:
            stored = await self.container.objects.put(upload.storage_key, measured())
            check_head(bytes(head), complete=stored.plaintext_size <= HEAD_BYTES)
        except FileProblem as problem:
            await self.container.objects.delete(upload.storage_key)
            raise IngestFileRejected(problem.message, errors=[{"code": problem.code}]) from None
        except BaseException:
            await self.container.objects.delete(upload.storage_key)
            raise
        row = EncryptedObject(
            organization_id=organization_id,
            storage_key=upload.storage_key,
            wrapped_key=stored.wrapped_key,
            key_version=stored.key_version,
            plaintext_size=stored.plaintext_size,
            sha256=stored.sha256,
            content_type="text/csv",
        )
        await self.repository.add(row)
        upload.status = "received"
        job = await self._new_job(upload, row.id, stored.sha256, stored.plaintext_size, start)
        return job_read(job)

    async def _new_job(
        self,
        upload: IngestUpload,
        object_id: uuid.UUID | None,
        sha256: str,
        size: int,
        start: bool = True,
    ) -> IngestJob:
        """The upload's job, started after the commit (unless `start` is false)."""
        job = IngestJob(
            organization_id=upload.organization_id,
            upload_id=upload.id,
            object_id=object_id,
            filename=upload.filename,
            sha256=sha256,
            size=size,
            state="uploaded",
            dry_run=upload.dry_run,
            timezone=upload.timezone,
            started_by=upload.created_by,
            started_by_client=upload.created_by_client,
        )
        await self.repository.add(job)
        earlier = await self.repository.earlier_import(
            sha256, tenant=upload.organization_id, other_than=job.id
        )
        if earlier is not None:
            job.duplicate_of = earlier
            job.message = (
                f"This file was already imported by job {earlier}: importing it again adds "
                "nothing that is already present."
            )
        context.describe_resource("ingest_job", job.id)
        log.info("ingest.upload.received", upload_id=str(upload.id), job_id=str(job.id))
        if start:
            after_commit(self.session, lambda: start_job(job.id))
        return job

    async def complete(self, principal: Principal, upload_id: uuid.UUID) -> JobRead:
        """After a PUT: the job of the upload (the embedded PUT has already created it)."""
        context.describe_resource("ingest_upload", upload_id)
        upload = await self.repository.upload(upload_id, tenant=principal.organization_id)
        if upload is None:
            raise IngestUploadNotFound(UPLOAD_NOT_FOUND)
        require(policies.can_import(principal), IMPORT_DENIED)
        job = await self.repository.job_of_upload(upload_id, tenant=principal.organization_id)
        if job is None and upload.status == direct.PRESIGNED:
            job = await self._complete_presigned(upload)
        if job is None:
            raise IngestUploadIncomplete(
                "No file has been received for this upload yet: PUT the file to its URL first."
            )
        context.describe_resource("ingest_job", job.id)
        return job_read(job)

    async def _complete_presigned(self, upload: IngestUpload) -> IngestJob | None:
        """Check the file PUT to the bucket and create its job (started after the commit)."""
        await direct.check_staged(self.container, upload)
        tenant = upload.organization_id
        if not await self.repository.set_upload_status(
            upload.id, tenant=tenant, old=direct.PRESIGNED, new=direct.STAGED, at=utcnow()
        ):  # completed at the same moment by another request: that request's job
            return await self.repository.job_of_upload(upload.id, tenant=tenant)
        sha256 = keys.declared_sha256(upload.storage_key)
        assert sha256 is not None  # check_staged refuses an undeclared key
        return await self._new_job(upload, None, sha256, upload.max_bytes)

    async def list_jobs(self, principal: Principal, request: PageRequest) -> JobPage:
        context.describe_resource("ingest_job")
        require(policies.can_read_jobs(principal), READ_DENIED)
        rows, total = await self.repository.jobs(tenant=principal.organization_id, request=request)
        return Page[JobRead](
            items=[job_read(row) for row in rows],
            total=total,
            page=request.page,
            page_size=request.page_size,
        )

    async def get_job(self, principal: Principal, job_id: uuid.UUID) -> JobRead:
        job = await self._job(principal, job_id)
        require(policies.can_read_jobs(principal), READ_DENIED)
        return job_read(job)

    async def cancel(self, principal: Principal, job_id: uuid.UUID) -> JobRead:
        job = await self._job(principal, job_id)
        require(policies.can_import(principal), IMPORT_DENIED)
        if job.state in FINISHED_STATES:
            raise IngestJobFinished(
                f"The job has already finished ({job.state}): there is nothing to cancel."
            )
        job.cancel_requested = True
        await self.session.flush()
        return job_read(job)

    async def error_report(
        self, principal: Principal, job_id: uuid.UUID
    ) -> AsyncGenerator[bytes, None]:
        job = await self._job(principal, job_id)
        require(policies.can_import(principal), IMPORT_DENIED)
        stored = (
            None
            if job.report_object_id is None
            else await self.repository.object(job.report_object_id, tenant=job.organization_id)
        )
        if stored is None:
            raise IngestReportMissing(
                "This job has no error report: it rejected no rows, or has not finished yet."
            )
        return await self.container.objects.open(
            stored.storage_key, WrappedKey(stored.key_version, stored.wrapped_key), stored.sha256
        )

    async def settings(self, principal: Principal) -> SettingsRead:
        context.describe_resource("ingest_settings")
        require(policies.can_import(principal), IMPORT_DENIED)
        row = await self.repository.settings(tenant=principal.organization_id)
        if row is None:
            return SettingsRead(on_changed_row="reject", max_invalid_percent=50)
        return SettingsRead.model_validate(row, from_attributes=True)

    async def change_settings(self, principal: Principal, data: SettingsUpdate) -> SettingsRead:
        context.describe_resource("ingest_settings")
        require(
            policies.can_change_settings(principal),
            "Only organization administrators change import settings.",
        )
        row = await self.repository.settings(tenant=principal.organization_id)
        if row is None:
            row = IngestSettings(organization_id=principal.organization_id)
            await self.repository.add(row)
        row.on_changed_row = data.on_changed_row
        row.max_invalid_percent = data.max_invalid_percent
        await self.session.flush()
        return SettingsRead.model_validate(row, from_attributes=True)

    async def operator_view(
        self, job_id: uuid.UUID, *, max_errors: int
    ) -> tuple[JobRead, list[RejectedLine]]:
        """A job and its first rejected rows (without their cells) for `clinvault ingest`."""
        job = await self.repository.job_global(job_id)
        if job is None:
            raise IngestJobNotFound(JOB_NOT_FOUND)
        rejected: list[RejectedLine] = []
        async with aclosing(self.repository.errors(job.id, tenant=job.organization_id)) as rows:
            async for error in rows:
                if len(rejected) >= max_errors:
                    break
                rejected.append(RejectedLine(error.line, error.column, error.code, error.message))
        return job_read(job), rejected

    async def _job(self, principal: Principal, job_id: uuid.UUID) -> IngestJob:
        context.describe_resource("ingest_job", job_id)
        job = await self.repository.job(job_id, tenant=principal.organization_id)
        if job is None:
            raise IngestJobNotFound(JOB_NOT_FOUND)
        return job


async def start_job(job_id: uuid.UUID) -> None:
    from clinvault.ingest.workflows import start_import

    await start_import(job_id)
