"""HTTP routes of record attachments: upload (multipart) and decrypted download."""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import IO
from urllib.parse import quote

from fastapi import APIRouter, UploadFile, status
from fastapi.responses import StreamingResponse

from clinvault.config import Settings
from clinvault.deps import ContainerDep, PrincipalDep, SessionDep
from clinvault.records.medical.attachments import AttachmentService
from clinvault.records.medical.schemas import AttachmentRead
from clinvault.storage.spool import SpoolDirectory, SpooledFile, open_directory, spool_root

router = APIRouter(prefix="/api/records", tags=["medical records"])

ATTACHMENT_UPLOAD_PATH = re.compile(r"/api/records/[^/]+/attachments/?")
MULTIPART_OVERHEAD = 64 * 1024


def body_limit_overrides(settings: Settings) -> list[tuple[re.Pattern[str], int]]:
    """Only the attachment upload admits a body larger than the JSON limit (RequestPipeline)."""
    return [(ATTACHMENT_UPLOAD_PATH, settings.records.max_attachment_bytes + MULTIPART_OVERHEAD)]


def _spool(source: IO[bytes], directory: SpoolDirectory) -> SpooledFile:
    """The upload sealed into the spool: no plaintext on disk (`clinvault.storage.spool`)."""
    writer = directory.new_file("attachment-")
    try:
        while chunk := source.read(1024 * 1024):
            writer.write(chunk)
    except BaseException:
        writer.close()
        raise
    return writer.finish()


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
    directory = await asyncio.to_thread(
        open_directory, spool_root(container.settings), "attachment-"
    )
    try:
        spooled = await asyncio.to_thread(_spool, file.file, directory)
        async with spooled.plaintext() as path:
            return await AttachmentService(session, container).attach(
                principal, record_id, path, file.filename or ""
            )
    finally:
        await asyncio.to_thread(directory.cleanup)


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
    return StreamingResponse(
        content.chunks,
        media_type=content.content_type,
        headers={
            "content-disposition": f"attachment; filename*=UTF-8''{quote(content.filename)}",
            "content-length": str(content.size),
        },
    )
