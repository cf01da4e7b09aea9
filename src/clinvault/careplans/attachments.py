"""Documents attached to a care plan: checked by their real bytes, stored encrypted.

- `attach(principal, plan_id, path, filename)`: a user who may edit the plan adds
  one PDF, JPEG or PNG; it is tied to the plan's current version.
- `listing(principal, plan_id)`, `content(principal, plan_id, id)`: whoever sees the
  plan (its clinicians, readers of a live share, the patient of a plan shared
  with them); another organization's reads are audited in the owner's log.
- `remove(principal, plan_id, id)`: an editor takes a document off the plan; the
  row, the object and who removed it when stay on record.

Order of work (DESIGN decision 1), as for prescription scans: the file is
checked, encrypted under a data key of its own and written under
`orgs/{org}/care-plans/{plan}/{object}`, then the rows join the request's
transaction; a failure before commit leaves at worst an orphan object.
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
from clinvault.careplans import watchers
from clinvault.careplans.access import Access
from clinvault.careplans.repository import CarePlanRepository
from clinvault.careplans.schemas import AttachmentRead
from clinvault.careplans.service import CarePlanService
from clinvault.errors import PermissionDenied
from clinvault.errors.careplans import (
    CarePlanAttachmentNotFound,
    CarePlanAttachmentRejected,
    CarePlanAttachmentTooLarge,
    CarePlanAttachmentType,
)
from clinvault.identity.principal import Principal
from clinvault.ids import uuid7
from clinvault.models.careplans import CarePlanAttachment
from clinvault.timeutil import utcnow

log = structlog.get_logger(__name__)

NOT_FOUND = "No such document on this plan: list them with GET /api/care-plans/{id}/attachments."

REFUSALS = Refusals(
    CarePlanAttachmentRejected,
    "The document was not stored: ",
    too_large=CarePlanAttachmentTooLarge,
    wrong_type=CarePlanAttachmentType,
)


class CarePlanAttachmentService:
    def __init__(self, session: AsyncSession, container: Container) -> None:
        self.session = session
        self.container = container
        self.plans = CarePlanService(session, container)
        self.repository = CarePlanRepository(session)
        self.policy = document_policy(container.settings)

    async def _editor(self, principal: Principal, plan_id: uuid.UUID, what: str) -> Access:
        found = await self.plans.find(principal, plan_id, what)
        if found.patient or found.level != "edit":
            raise PermissionDenied(
                f"Your access lets you {found.level} this plan: only its editors attach or "
                "remove documents."
            )
        return found

    async def attach(
        self, principal: Principal, plan_id: uuid.UUID, path: Path, filename: str
    ) -> AttachmentRead:
        """Store the file at `path` (a spooled upload the caller removes) on the plan."""
        plan = (await self._editor(principal, plan_id, "attachments.create")).plan
        inspected = await inspect(self.container, path, filename, self.policy, REFUSALS)
        object_id = uuid7()
        async with stored_object(
            self.container,
            self.repository.add,
            key=f"orgs/{plan.organization_id}/care-plans/{plan.id}/{object_id}",
            object_id=object_id,
            organization_id=plan.organization_id,
            path=path,
            inspected=inspected,
        ):
            user = await self.repository.user_global(principal.user_id)
            row = CarePlanAttachment(
                organization_id=plan.organization_id,
                plan_id=plan.id,
                version=plan.version,
                object_id=object_id,
                filename=inspected.filename,
                content_type=inspected.content_type,
                size=inspected.size,
                added_by=principal.user_id,
                added_by_name="" if user is None else (user.display_name or user.email),
                acting_organization_id=principal.organization_id,
            )
            await self.repository.add(row)
        context.describe_resource("care_plan_attachment", row.id)
        log.info("careplans.attachment.stored", plan_id=str(plan.id), attachment_id=str(row.id))
        await watchers.announce(
            self.repository,
            plan,
            "care_plan.attachment",
            actor_id=principal.user_id,
            event=f"att-{row.id}",
            container=self.container,
        )
        return _read_row(row)

    async def listing(self, principal: Principal, plan_id: uuid.UUID) -> list[AttachmentRead]:
        plan = (await self.plans.find(principal, plan_id, "attachments.list")).plan
        return [_read_row(row) for row in await self.repository.attachments(plan.id)]

    async def content(
        self, principal: Principal, plan_id: uuid.UUID, attachment_id: uuid.UUID
    ) -> FileContent:
        plan = (await self.plans.find(principal, plan_id, "attachments.read")).plan
        row = await self.repository.attachment(plan.id, attachment_id)
        if row is None or row.removed_at is not None:
            raise CarePlanAttachmentNotFound(
                NOT_FOUND if row is None else "This document was removed from the plan."
            )
        context.describe_resource("care_plan_attachment", row.id)
        stored = await self.repository.stored_object(row.object_id, tenant=plan.organization_id)
        if stored is None:
            raise CarePlanAttachmentNotFound(NOT_FOUND)
        chunks = await open_object(self.container, stored)
        return FileContent(row.filename, stored.content_type, stored.plaintext_size, chunks)

    async def remove(
        self, principal: Principal, plan_id: uuid.UUID, attachment_id: uuid.UUID
    ) -> AttachmentRead:
        """Take the document off the plan; the row and the object stay on record."""
        plan = (await self._editor(principal, plan_id, "attachments.remove")).plan
        row = await self.repository.attachment(plan.id, attachment_id)
        if row is None:
            raise CarePlanAttachmentNotFound(NOT_FOUND)
        context.describe_resource("care_plan_attachment", row.id)
        if row.removed_at is None:
            row.removed_at = utcnow()
            row.removed_by = principal.user_id
            row.removed_in_version = plan.version
            await self.session.flush()
            await watchers.announce(
                self.repository,
                plan,
                "care_plan.attachment_removed",
                actor_id=principal.user_id,
                event=f"att-{row.id}-removed",
                container=self.container,
            )
        return _read_row(row)


def _read_row(row: CarePlanAttachment) -> AttachmentRead:
    return AttachmentRead(
        id=row.id,
        plan_id=row.plan_id,
        version=row.version,
        filename=row.filename,
        content_type=row.content_type,
        size=row.size,
        added_by=row.added_by,
        added_by_name=row.added_by_name,
        created_at=row.created_at,
        removed_at=row.removed_at,
        removed_by=row.removed_by,
        removed_in_version=row.removed_in_version,
    )
