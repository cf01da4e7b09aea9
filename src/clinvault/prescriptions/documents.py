"""The optional scanned prescription: checked by its real bytes, stored encrypted.

- `PrescriptionDocumentService.attach(principal, id, path, filename)`: the draft's
  author or its named prescriber attaches one PDF, JPEG or PNG before signing (the
  scan is part of what the prescriber signs; a signed prescription's scan never
  changes).
- `content(principal, id)`: the prescriber, the patient and the pharmacy the
  prescription is routed to download it; a pharmacy's download is copied into
  the provider's audit log with the acting organization.

Order of work (DESIGN decision 1), as for record attachments: the file is
checked, encrypted and written under `orgs/{org}/prescriptions/{id}/{object}`,
then the rows join the request's transaction; a failure before commit leaves at
worst an orphan object for the reconcile job.
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
from clinvault.errors import PermissionDenied, ServiceUnavailable
from clinvault.errors.prescriptions import (
    PrescriptionDocumentExists,
    PrescriptionDocumentNotFound,
    PrescriptionDocumentRejected,
    PrescriptionStateConflict,
)
from clinvault.filecheck import (
    FileKind,
    FilePolicy,
    FileRejected,
    InspectedFile,
    VirusScanFailed,
    inspect_file,
)
from clinvault.identity.principal import Principal, Role
from clinvault.ids import uuid7
from clinvault.models.objects import EncryptedObject
from clinvault.models.prescriptions import Prescription
from clinvault.prescriptions import access
from clinvault.prescriptions.engine import Engine, state_of
from clinvault.prescriptions.repository import PrescriptionRepository
from clinvault.prescriptions.schemas import PrescriptionRead
from clinvault.prescriptions.states import Actor, RxStatus
from clinvault.prescriptions.views import Views

log = structlog.get_logger(__name__)

DOCUMENT_KINDS = frozenset({FileKind.PDF, FileKind.JPEG, FileKind.PNG})
READERS = frozenset({Actor.PRESCRIBER, Actor.PATIENT, Actor.PHARMACY})
READ_CHUNK = 1024 * 1024
NO_DOCUMENT = "This prescription has no scanned document: the prescription itself is the order."


@dataclass(frozen=True, slots=True)
class DocumentContent:
    filename: str
    content_type: str
    size: int
    chunks: AsyncGenerator[bytes, None]


def may_attach(principal: Principal, rx: Prescription) -> bool:
    """The draft's author (a nurse's draft) or its named prescriber."""
    return principal.has(Role.DOCTOR, Role.NURSE) and principal.user_id in (
        rx.prescriber_id,
        rx.author_id,
    )


class PrescriptionDocumentService:
    def __init__(self, session: AsyncSession, container: Container) -> None:
        self.session = session
        self.container = container
        self.repository = PrescriptionRepository(session)
        self.engine = Engine(session, container)
        self.policy = FilePolicy(
            allowed_kinds=DOCUMENT_KINDS,
            max_bytes=container.settings.records.max_attachment_bytes,
        )

    async def attach(
        self, principal: Principal, prescription_id: uuid.UUID, path: Path, filename: str
    ) -> PrescriptionRead:
        """Store the file at `path` (a spooled upload the caller removes) as the draft's scan."""
        found = await access.find(self.repository, principal, prescription_id)
        rx = found.rx
        if found.for_pharmacy or not may_attach(principal, rx):
            raise PermissionDenied(
                "Only the author of this draft or its named prescriber attaches its scan."
            )
        if rx.status != RxStatus.DRAFT:
            raise PrescriptionStateConflict(
                f"Prescription {rx.number} is {state_of(rx).label()}: a scan is attached to a "
                "draft, before it is signed. Write a new prescription to change what was signed."
            )
        if rx.document_object_id is not None:
            raise PrescriptionDocumentExists(
                f"Prescription {rx.number} already has a scanned document: mark this draft "
                "entered-in-error and write a new one to replace it."
            )
        inspected = await self._inspect(path, filename)
        object_id = uuid7()
        key = f"orgs/{rx.organization_id}/prescriptions/{rx.id}/{object_id}"
        stored = await self.container.objects.put(key, _read(path))
        try:
            if stored.sha256 != inspected.sha256:
                raise RuntimeError("the spooled file changed between check and storage")
            await self.repository.add(
                EncryptedObject(
                    id=object_id,
                    organization_id=rx.organization_id,
                    storage_key=key,
                    wrapped_key=stored.wrapped_key,
                    key_version=stored.key_version,
                    plaintext_size=stored.plaintext_size,
                    sha256=stored.sha256,
                    content_type=inspected.content_type,
                )
            )
            rx.document_object_id = object_id
            rx.document_filename = inspected.filename
            rx.document_content_type = inspected.content_type
            await self.session.flush()
        except BaseException:
            await self.container.objects.delete(key)
            raise
        log.info("prescriptions.document.stored", prescription_id=str(rx.id))
        return await Views(self.repository, self.container).full(
            rx, actors=found.actors, for_pharmacy=False
        )

    async def content(self, principal: Principal, prescription_id: uuid.UUID) -> DocumentContent:
        found = await access.find(self.repository, principal, prescription_id)
        rx = found.rx
        if not found.actors & READERS:
            raise PermissionDenied(
                "Only the prescriber, the patient and the pharmacy this prescription is "
                "routed to download its scan."
            )
        if rx.document_object_id is None:
            raise PrescriptionDocumentNotFound(NO_DOCUMENT)
        stored = await self.repository.stored_object(
            rx.document_object_id, tenant=rx.organization_id
        )
        if stored is None:
            raise PrescriptionDocumentNotFound(NO_DOCUMENT)
        if found.for_pharmacy:
            await self.engine.audit_shared(principal, rx, "document")
        chunks = await self.container.objects.open(
            stored.storage_key,
            WrappedKey(version=stored.key_version, blob=stored.wrapped_key),
            expected_sha256=stored.sha256,
        )
        return DocumentContent(
            filename=rx.document_filename or "prescription",
            content_type=stored.content_type,
            size=stored.plaintext_size,
            chunks=chunks,
        )

    async def _inspect(self, path: Path, filename: str) -> InspectedFile:
        try:
            return await asyncio.to_thread(
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
            raise PrescriptionDocumentRejected(
                "The scan was not stored: "
                + " ".join(problem.detail for problem in rejected.problems),
                errors=[
                    {"field": "file", "in": "body", "code": p.code, "message": p.detail}
                    for p in rejected.problems
                ],
            ) from None


async def _read(path: Path) -> AsyncIterator[bytes]:
    handle = await asyncio.to_thread(path.open, "rb")
    try:
        while chunk := await asyncio.to_thread(handle.read, READ_CHUNK):
            yield chunk
    finally:
        await asyncio.to_thread(handle.close)
