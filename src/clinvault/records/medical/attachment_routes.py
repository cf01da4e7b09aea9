"""HTTP routes of record attachments: upload (multipart) and decrypted download."""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import IO
from urllib.parse import quote

from fastapi import APIRouter, UploadFile, status
from fastapi.responses import StreamingResponse

from clinvault.config import Settings
from clinvault.deps import ContainerDep, PrincipalDep, SessionDep
from clinvault.records.medical.attachments import AttachmentService
from clinvault.records.medical.schemas import AttachmentRead

router = APIRouter(prefix="/api/records", tags=["medical records"])

ATTACHMENT_UPLOAD_PATH = re.compile(r"/api/records/[^/]+/attachments/?")
MULTIPART_OVERHEAD = 64 * 1024


def body_limit_overrides(settings: Settings) -> list[tuple[re.Pattern[str], int]]:
    """Only the attachment upload admits a body larger than the JSON limit (RequestPipeline)."""
    return [(ATTACHMENT_UPLOAD_PATH, settings.records.max_attachment_bytes + MULTIPART_OVERHEAD)]


def _spool(source: IO[bytes], root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix="attachment-", dir=root)
    with open(handle, "wb") as target:
        shutil.copyfileobj(source, target, 1024 * 1024)
    return Path(name)


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
    path = await asyncio.to_thread(_spool, file.file, container.settings.home / "tmp" / "uploads")
    try:
        return await AttachmentService(session, container).attach(
            principal, record_id, path, file.filename or ""
        )
    finally:
        await asyncio.to_thread(path.unlink, missing_ok=True)


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
