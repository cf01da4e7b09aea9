"""Record attachments: checked by their real bytes, stored as encrypted objects.

Order of work (DESIGN decision 1): the file is checked, then encrypted and
written under `orgs/{org}/records/{patient}/{record}/{attachment}`, then the
metadata rows join the request's transaction. A failure before commit leaves
at worst an orphan object, never a row without its object.
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.bootstrap import Container
from clinvault.crypto.ports import WrappedKey
from clinvault.errors import (
    AttachmentNotFound,
    AttachmentRejected,
    MedicalRecordSuperseded,
    ServiceUnavailable,
)
from clinvault.filecheck import FileKind, FilePolicy, FileRejected, VirusScanFailed, inspect_file
from clinvault.identity.principal import Principal
from clinvault.ids import uuid7
from clinvault.models.objects import EncryptedObject
from clinvault.models.records import RecordAttachment
from clinvault.records.medical.repository import MedicalRecordRepository
from clinvault.records.medical.schemas import AttachmentRead
from clinvault.records.medical.service import MedicalRecordService

log = structlog.get_logger(__name__)

ATTACHMENT_KINDS = frozenset({FileKind.PDF, FileKind.JPEG, FileKind.PNG})
READ_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class AttachmentContent:
    filename: str
    content_type: str
    size: int
    chunks: AsyncGenerator[bytes, None]


class AttachmentService:
    def __init__(self, session: AsyncSession, container: Container) -> None:
        self.session = session
        self.container = container
        self.records = MedicalRecordService(session, container)
        self.repository = MedicalRecordRepository(session)
        self.policy = FilePolicy(
            allowed_kinds=ATTACHMENT_KINDS,
            max_bytes=container.settings.records.max_attachment_bytes,
        )

    async def attach(
        self, principal: Principal, record_id: uuid.UUID, path: Path, filename: str
    ) -> AttachmentRead:
        """Attach the file at `path` (a spooled upload the caller removes afterwards)."""
        record = await self.records.visible_record(principal, record_id, write=True)
        if record.superseded_by_id is not None:
            raise MedicalRecordSuperseded(
                f"This version was amended by {record.superseded_by_id}: attach files to the "
                "latest version."
            )
        try:
            inspected = await asyncio.to_thread(
                functools.partial(inspect_file, scanner=self.container.scanner),
                path,
                filename,
                self.policy,
            )
        except VirusScanFailed as exc:
            raise ServiceUnavailable(
                "The virus scanner is unavailable: try again in a few minutes."
            ) from exc
        except FileRejected as rejected:
            context.note_detail("file_rejected")
            raise AttachmentRejected(
                "The file was not stored: "
                + " ".join(problem.detail for problem in rejected.problems),
                errors=[
                    {"field": "file", "in": "body", "code": p.code, "message": p.detail}
                    for p in rejected.problems
                ],
            ) from None
        attachment_id = uuid7()
        key = (
            f"orgs/{record.organization_id}/records/{record.patient_id}/{record.id}/{attachment_id}"
        )
        stored = await self.container.objects.put(key, _read(path))
        try:
            if stored.sha256 != inspected.sha256:
                raise RuntimeError("the spooled file changed between check and storage")
            blob = EncryptedObject(
                id=uuid7(),
                organization_id=record.organization_id,
                storage_key=key,
                wrapped_key=stored.wrapped_key,
                key_version=stored.key_version,
                plaintext_size=stored.plaintext_size,
                sha256=stored.sha256,
                content_type=inspected.content_type,
            )
            await self.repository.add(blob)
            attachment = RecordAttachment(
                id=attachment_id,
                organization_id=record.organization_id,
                record_id=record.id,
                object_id=blob.id,
                filename=inspected.filename,
                content_type=inspected.content_type,
                size=inspected.size,
                uploaded_by=principal.user_id,
            )
            await self.repository.add(attachment)
        except BaseException:
            await self.container.objects.delete(key)
            raise
        context.describe_resource("record_attachment", attachment.id)
        log.info(
            "records.attachment.stored", attachment_id=str(attachment.id), record_id=str(record.id)
        )
        return AttachmentRead(
            id=attachment.id,
            filename=attachment.filename,
            content_type=attachment.content_type,
            size=attachment.size,
            sha256=stored.sha256,
            created_at=attachment.created_at,
        )

    async def content(
        self, principal: Principal, record_id: uuid.UUID, attachment_id: uuid.UUID
    ) -> AttachmentContent:
        record = await self.records.visible_record(principal, record_id)
        found = await self.repository.attachment(
            attachment_id, record_id=record.id, tenant=record.organization_id
        )
        context.describe_resource("record_attachment", attachment_id)
        if found is None:
            raise AttachmentNotFound("No attachment with this id on this record: check the ids.")
        attachment, stored = found
        chunks = await self.container.objects.open(
            stored.storage_key,
            WrappedKey(version=stored.key_version, blob=stored.wrapped_key),
            expected_sha256=stored.sha256,
        )
        return AttachmentContent(
            filename=attachment.filename,
            content_type=attachment.content_type,
            size=attachment.size,
            chunks=chunks,
        )


async def _read(path: Path) -> AsyncIterator[bytes]:
    handle = await asyncio.to_thread(path.open, "rb")
    try:
        while chunk := await asyncio.to_thread(handle.read, READ_CHUNK):
            yield chunk
    finally:
        await asyncio.to_thread(handle.close)
