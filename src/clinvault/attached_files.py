"""A document attached to a clinical object: checked, stored encrypted, read back.

Care-plan attachments, a prescription's scan and medical-record attachments
share these steps; each feature keeps its own permissions, rows and errors and
passes what differs (the object key, the error classes, the message's lead).

Order of work (DESIGN decision 1): `inspect` checks the file by its real bytes;
`stored_object` encrypts it under a data key of its own, writes it, then adds
its `EncryptedObject` row; the feature adds its own rows inside the same block,
and any failure there deletes the written object again. A failure before commit
leaves at worst an orphan object, never a row without its object.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from clinvault import context
from clinvault.bootstrap import Container
from clinvault.config import Settings
from clinvault.crypto.ports import WrappedKey
from clinvault.errors import ServiceUnavailable
from clinvault.errors.base import AppError
from clinvault.filecheck import (
    FileKind,
    FilePolicy,
    FileRejected,
    InspectedFile,
    VirusScanFailed,
)
from clinvault.models.objects import EncryptedObject

DOCUMENT_KINDS = frozenset({FileKind.PDF, FileKind.JPEG, FileKind.PNG})
READ_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class FileContent:
    """A stored document on its way back: decrypted chunks and what to name them."""

    filename: str
    content_type: str
    size: int
    chunks: AsyncGenerator[bytes, None]


@dataclass(frozen=True, slots=True)
class Refusals:
    """How a feature answers a refused file.

    `lead` starts the detail ("The scan was not stored: "); `too_large` and
    `wrong_type`, when set, replace `rejected` for a file over the size limit
    (413) and for a file whose only problem is its type (415).
    """

    rejected: type[AppError]
    lead: str
    too_large: type[AppError] | None = None
    wrong_type: type[AppError] | None = None

    def error(self, refused: FileRejected) -> AppError:
        codes = set(refused.codes)
        error = self.rejected
        if self.too_large is not None and "file_too_large" in codes:
            error = self.too_large
        elif self.wrong_type is not None and codes == {"type_not_allowed"}:
            error = self.wrong_type
        return error(
            self.lead + " ".join(problem.detail for problem in refused.problems),
            errors=[
                {"field": "file", "in": "body", "code": p.code, "message": p.detail}
                for p in refused.problems
            ],
        )


def document_policy(settings: Settings) -> FilePolicy:
    """One PDF, JPEG or PNG up to the records' attachment limit."""
    return FilePolicy(allowed_kinds=DOCUMENT_KINDS, max_bytes=settings.records.max_attachment_bytes)


async def inspect(
    container: Container, path: Path, filename: str, policy: FilePolicy, refusals: Refusals
) -> InspectedFile:
    """Check the file at `path` in the check pool; a refusal becomes the feature's error."""
    try:
        return await container.file_checks.inspect(path, filename, policy)
    except VirusScanFailed as exc:
        raise ServiceUnavailable(
            "The virus scanner is unavailable: try again in a few minutes."
        ) from exc
    except FileRejected as rejected:
        context.note_detail("file_rejected")
        raise refusals.error(rejected) from None


@contextlib.asynccontextmanager
async def stored_object(
    container: Container,
    add: Callable[[EncryptedObject], Awaitable[None]],
    *,
    key: str,
    object_id: uuid.UUID,
    organization_id: uuid.UUID,
    path: Path,
    inspected: InspectedFile,
) -> AsyncIterator[EncryptedObject]:
    """Write the file at `path` encrypted under `key` and add its row with `add`.

    The caller adds its own rows inside the block; an exception there, or here,
    deletes the written object before it propagates.
    """
    stored = await container.objects.put(key, read_file(path))
    try:
        if stored.sha256 != inspected.sha256:
            raise RuntimeError("the spooled file changed between check and storage")
        row = EncryptedObject(
            id=object_id,
            organization_id=organization_id,
            storage_key=key,
            wrapped_key=stored.wrapped_key,
            key_version=stored.key_version,
            plaintext_size=stored.plaintext_size,
            sha256=stored.sha256,
            content_type=inspected.content_type,
        )
        await add(row)
        yield row
    except BaseException:
        await container.objects.delete(key)
        raise


async def open_object(container: Container, stored: EncryptedObject) -> AsyncGenerator[bytes, None]:
    """The object's plaintext chunks, decrypted and checked against its digest."""
    return await container.objects.open(
        stored.storage_key,
        WrappedKey(version=stored.key_version, blob=stored.wrapped_key),
        expected_sha256=stored.sha256,
    )


async def read_file(path: Path) -> AsyncIterator[bytes]:
    handle = await asyncio.to_thread(path.open, "rb")
    try:
        while chunk := await asyncio.to_thread(handle.read, READ_CHUNK):
            yield chunk
    finally:
        await asyncio.to_thread(handle.close)
