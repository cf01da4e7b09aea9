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

import uuid
from pathlib import Path

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.attached_files import (
    FileContent,
    Refusals,
    document_policy,
    inspect,
    open_object,
    stored_object,
)
from clinvault.bootstrap import Container
from clinvault.errors import PermissionDenied
from clinvault.errors.prescriptions import (
    PrescriptionDocumentExists,
    PrescriptionDocumentNotFound,
    PrescriptionDocumentRejected,
    PrescriptionStateConflict,
)
from clinvault.identity.principal import Principal, Role
from clinvault.ids import uuid7
from clinvault.models.prescriptions import Prescription
from clinvault.prescriptions import access
from clinvault.prescriptions.engine import Engine, state_of
from clinvault.prescriptions.repository import PrescriptionRepository
from clinvault.prescriptions.schemas import PrescriptionRead
from clinvault.prescriptions.states import Actor, RxStatus
from clinvault.prescriptions.views import Views

log = structlog.get_logger(__name__)

READERS = frozenset({Actor.PRESCRIBER, Actor.PATIENT, Actor.PHARMACY})
NO_DOCUMENT = "This prescription has no scanned document: the prescription itself is the order."
REFUSALS = Refusals(PrescriptionDocumentRejected, "The scan was not stored: ")


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
        self.policy = document_policy(container.settings)

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
        inspected = await inspect(self.container, path, filename, self.policy, REFUSALS)
        object_id = uuid7()
        async with stored_object(
            self.container,
            self.repository.add,
            key=f"orgs/{rx.organization_id}/prescriptions/{rx.id}/{object_id}",
            object_id=object_id,
            organization_id=rx.organization_id,
            path=path,
            inspected=inspected,
        ):
            rx.document_object_id = object_id
            rx.document_filename = inspected.filename
            rx.document_content_type = inspected.content_type
            await self.session.flush()
        log.info("prescriptions.document.stored", prescription_id=str(rx.id))
        return await Views(self.repository, self.container).full(
            rx, actors=found.actors, for_pharmacy=False
        )

    async def content(self, principal: Principal, prescription_id: uuid.UUID) -> FileContent:
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
        chunks = await open_object(self.container, stored)
        return FileContent(
            filename=rx.document_filename or "prescription",
            content_type=stored.content_type,
            size=stored.plaintext_size,
            chunks=chunks,
        )
