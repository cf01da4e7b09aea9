"""HTTP side of a document attached to a clinical object (`clinvault.attached_files`).

Shared by the care-plan, prescription-scan and medical-record routes: the
multipart body limit of the upload path, the upload sealed into the spool and
handed to the service as a plaintext path, and the decrypted download.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO
from urllib.parse import quote

from fastapi import UploadFile
from fastapi.responses import StreamingResponse

from clinvault.attached_files import FileContent
from clinvault.config import Settings
from clinvault.storage.spool import SpoolDirectory, SpooledFile, open_directory, spool_root

MULTIPART_OVERHEAD = 64 * 1024
SPOOL_CHUNK = 1024 * 1024


def upload_limit(path: re.Pattern[str], settings: Settings) -> list[tuple[re.Pattern[str], int]]:
    """Only the document upload at `path` admits a body larger than the JSON limit."""
    return [(path, settings.records.max_attachment_bytes + MULTIPART_OVERHEAD)]


def _spool(source: IO[bytes], directory: SpoolDirectory, prefix: str) -> SpooledFile:
    """The upload sealed into the spool: no plaintext on disk (`clinvault.storage.spool`)."""
    writer = directory.new_file(prefix)
    try:
        while chunk := source.read(SPOOL_CHUNK):
            writer.write(chunk)
    except BaseException:
        writer.close()
        raise
    return writer.finish()


@contextlib.asynccontextmanager
async def spooled_upload(file: UploadFile, settings: Settings, prefix: str) -> AsyncIterator[Path]:
    """The uploaded part as a plaintext path for the checks, valid inside the block;
    the spool directory is removed afterwards, whatever happens."""
    directory = await asyncio.to_thread(open_directory, spool_root(settings), prefix)
    try:
        spooled = await asyncio.to_thread(_spool, file.file, directory, prefix)
        async with spooled.plaintext() as path:
            yield path
    finally:
        await asyncio.to_thread(directory.cleanup)


def download(content: FileContent) -> StreamingResponse:
    """The decrypted document, streamed as an attachment under its stored name."""
    return StreamingResponse(
        content.chunks,
        media_type=content.content_type,
        headers={
            "content-disposition": f"attachment; filename*=UTF-8''{quote(content.filename)}",
            "content-length": str(content.size),
        },
    )
