"""Record attachments: checked by their real bytes, stored as encrypted objects.

Order of work (DESIGN decision 1): the file is checked, then encrypted and
written under `orgs/{org}/records/{patient}/{record}/{attachment}`, then the
metadata rows join the request's transaction. A failure before commit leaves
at worst an orphan object, never a row without its object.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.attached_files import (
    FileContent,
    Refusals,
    document_policy,
    inspect,
    open_object,
    stored_object,
)
from clinvault.bootstrap import Container
from clinvault.errors import AttachmentNotFound, AttachmentRejected, MedicalRecordSuperseded
from clinvault.identity.principal import Principal
from clinvault.ids import uuid7
from clinvault.models.records import RecordAttachment
from clinvault.records.medical.repository import MedicalRecordRepository
from clinvault.records.medical.schemas import AttachmentRead
from clinvault.records.medical.service import MedicalRecordService

log = structlog.get_logger(__name__)

REFUSALS = Refusals(AttachmentRejected, "The file was not stored: ")


class AttachmentService:
    def __init__(self, session: AsyncSession, container: Container) -> None:
        self.session = session
        self.container = container
        self.records = MedicalRecordService(session, container)
        self.repository = MedicalRecordRepository(session)
        self.policy = document_policy(container.settings)

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
        inspected = await inspect(self.container, path, filename, self.policy, REFUSALS)
        attachment_id = uuid7()
        async with stored_object(
            self.container,
            self.repository.add,
            key=(
                f"orgs/{record.organization_id}/records/{record.patient_id}/{record.id}/"
                f"{attachment_id}"
            ),
            object_id=uuid7(),
            organization_id=record.organization_id,
            path=path,
            inspected=inspected,
        ) as blob:
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
        context.describe_resource("record_attachment", attachment.id)
        log.info(
            "records.attachment.stored", attachment_id=str(attachment.id), record_id=str(record.id)
        )
        return AttachmentRead(
            id=attachment.id,
            filename=attachment.filename,
            content_type=attachment.content_type,
            size=attachment.size,
            sha256=blob.sha256,
            created_at=attachment.created_at,
        )

    async def content(
        self, principal: Principal, record_id: uuid.UUID, attachment_id: uuid.UUID
    ) -> FileContent:
        record = await self.records.visible_record(principal, record_id)
        found = await self.repository.attachment(
            attachment_id, record_id=record.id, tenant=record.organization_id
        )
        context.describe_resource("record_attachment", attachment_id)
        if found is None:
            raise AttachmentNotFound("No attachment with this id on this record: check the ids.")
        attachment, stored = found
        chunks = await open_object(self.container, stored)
        return FileContent(
            filename=attachment.filename,
            content_type=attachment.content_type,
            size=attachment.size,
            chunks=chunks,
        )
