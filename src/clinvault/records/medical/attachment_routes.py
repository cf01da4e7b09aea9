"""HTTP routes of record attachments: upload (multipart) and decrypted download."""

from __future__ import annotations

import re
import uuid

from fastapi import APIRouter, UploadFile, status
from fastapi.responses import StreamingResponse

from clinvault.attached_file_routes import download, spooled_upload, upload_limit
from clinvault.config import Settings
from clinvault.deps import ContainerDep, PrincipalDep, SessionDep
from clinvault.records.medical.attachments import AttachmentService
from clinvault.records.medical.schemas import AttachmentRead

router = APIRouter(prefix="/api/records", tags=["medical records"])

ATTACHMENT_UPLOAD_PATH = re.compile(r"/api/records/[^/]+/attachments/?")


def body_limit_overrides(settings: Settings) -> list[tuple[re.Pattern[str], int]]:
    """Only the attachment upload admits a body larger than the JSON limit (RequestPipeline)."""
    return upload_limit(ATTACHMENT_UPLOAD_PATH, settings)


@router.post(
    "/{record_id}/attachments",
    name="records.attachment.create",
    status_code=status.HTTP_201_CREATED,
)
async def attach_file(
    record_id: uuid.UUID,
    file: UploadFile,
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
) -> AttachmentRead:
    """Attach one PDF, JPEG or PNG (multipart part `file`); it is checked and encrypted."""
    async with spooled_upload(file, container.settings, "attachment-") as path:
        return await AttachmentService(session, container).attach(
            principal, record_id, path, file.filename or ""
        )


@router.get(
    "/{record_id}/attachments/{attachment_id}/content",
    name="records.attachment.read",
    response_class=StreamingResponse,
)
async def attachment_content(
    record_id: uuid.UUID,
    attachment_id: uuid.UUID,
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
) -> StreamingResponse:
    """The decrypted file, streamed."""
    content = await AttachmentService(session, container).content(
        principal, record_id, attachment_id
    )
    return download(content)
