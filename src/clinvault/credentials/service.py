"""Use cases: practitioner profile, categories, reading submissions and documents, expiries."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.bootstrap import Container
from clinvault.credentials import policies
from clinvault.credentials.categories import all_categories
from clinvault.credentials.identifiers import npi_is_valid
from clinvault.credentials.repository import CredentialRepository, DocumentRow
from clinvault.credentials.schemas import (
    CategoryCreate,
    CategoryRead,
    DocumentRead,
    DocumentStatus,
    ProfileRead,
    ProfileUpdate,
    SubmissionRead,
)
from clinvault.credentials.views import document_read, submission_status
from clinvault.crypto.ports import WrappedKey
from clinvault.errors import (
    CredentialCategoryTaken,
    CredentialDocumentNotFound,
    CredentialSubmissionNotFound,
    NpiInvalid,
)
from clinvault.errors.credentials import NpiTaken
from clinvault.identity.policies import require
from clinvault.identity.principal import Principal
from clinvault.ids import normalize_reference
from clinvault.models.credentials import CredentialCategory, PractitionerProfile
from clinvault.timeutil import utcnow

DOCUMENT_NOT_FOUND = "No such document: list yours with GET /api/credentials/mine."
SUBMISSION_NOT_FOUND = "No such submission: check the reference."
NPI_TAKEN = (
    "This NPI is already registered to another practitioner profile. If it is yours, "
    "contact your organization's administrator or clinvault support to have it corrected; "
    "otherwise check the number."
)


@dataclass(frozen=True, slots=True)
class DocumentContent:
    filename: str
    content_type: str
    size: int
    chunks: AsyncGenerator[bytes, None]


class CredentialService:
    def __init__(self, session: AsyncSession, container: Container) -> None:
        self.session = session
        self.container = container
        self.repository = CredentialRepository(session)

    # profile and categories

    async def profile(self, principal: Principal) -> ProfileRead:
        context.describe_resource("practitioner_profile", principal.user_id)
        row = await self.repository.profile(principal.user_id, tenant=principal.organization_id)
        if row is None:
            return ProfileRead(
                user_id=principal.user_id, npi=None, specialty="", updated_at=utcnow()
            )
        return ProfileRead(
            user_id=row.user_id, npi=row.npi, specialty=row.specialty, updated_at=row.updated_at
        )

    async def put_profile(self, principal: Principal, body: ProfileUpdate) -> ProfileRead:
        context.describe_resource("practitioner_profile", principal.user_id)
        require(
            policies.can_keep_profile(principal),
            "Practitioner profiles belong to staff accounts of a provider organization.",
        )
        if not npi_is_valid(body.npi):
            raise NpiInvalid("The NPI fails its check digit: copy the 10 digits again.")
        if await self.repository.npi_held_by_other_global(body.npi, user_id=principal.user_id):
            context.note_detail("npi_taken")
            raise NpiTaken(NPI_TAKEN)
        row = await self.repository.profile(principal.user_id, tenant=principal.organization_id)
        try:
            if row is None:
                row = PractitionerProfile(
                    organization_id=principal.organization_id, user_id=principal.user_id
                )
                row.npi, row.specialty = body.npi, body.specialty
                await self.repository.add_all([row])
            else:
                row.npi, row.specialty = body.npi, body.specialty
                await self.session.flush()
        except IntegrityError:
            # A concurrent profile claimed the same NPI between the check and the write.
            context.note_detail("npi_taken")
            raise NpiTaken(NPI_TAKEN) from None
        return ProfileRead(
            user_id=row.user_id, npi=row.npi, specialty=row.specialty, updated_at=row.updated_at
        )

    async def categories(self, principal: Principal) -> list[CategoryRead]:
        context.describe_resource("credential_category")
        custom = await self.repository.categories(tenant=principal.organization_id)
        found = all_categories(self.container.settings.credentials, custom)
        return [
            CategoryRead(
                code=c.code,
                label=c.label,
                requires_expiry=c.requires_expiry,
                allowed_kinds=list(c.allowed_kinds),
                built_in=c.built_in,
            )
            for c in found.values()
        ]

    async def add_category(self, principal: Principal, body: CategoryCreate) -> CategoryRead:
        context.describe_resource("credential_category")
        require(policies.can_add_category(principal), "Only organization admins add categories.")
        existing = all_categories(
            self.container.settings.credentials,
            await self.repository.categories(tenant=principal.organization_id),
        )
        if body.code in existing:
            raise CredentialCategoryTaken(
                f"The category {body.code!r} exists already: choose another code."
            )
        row = CredentialCategory(
            organization_id=principal.organization_id,
            code=body.code,
            label=body.label,
            requires_expiry=body.requires_expiry,
            allowed_kinds=list(dict.fromkeys(body.allowed_kinds)),
        )
        await self.repository.add_all([row])
        context.describe_resource("credential_category", row.id)
        return CategoryRead(
            code=row.code,
            label=row.label,
            requires_expiry=row.requires_expiry,
            allowed_kinds=row.allowed_kinds,
            built_in=False,
        )

    # reading

    async def visible_document(
        self, principal: Principal, document_id: uuid.UUID, *, lock: bool = False
    ) -> DocumentRow:
        """The document if the principal may see it; 404 otherwise (also across tenants)."""
        context.describe_resource("credential_document", document_id)
        found = await self.repository.document(
            document_id, tenant=principal.organization_id, lock=lock
        )
        if found is None or not policies.can_see_document(principal, found[0].practitioner_id):
            raise CredentialDocumentNotFound(DOCUMENT_NOT_FOUND)
        return found

    async def open_for_review(self, principal: Principal, row: DocumentRow) -> None:
        """A reviewer reading a submitted document through the API starts its review
        (the portal starts it with an explicit action instead)."""
        document = row[0]
        if document.status == DocumentStatus.SUBMITTED and policies.opens_for_review(
            principal, document.practitioner_id
        ):
            now = utcnow()
            document.status = DocumentStatus.IN_REVIEW.value
            document.status_changed_at = now
            document.review_started_at = document.review_started_at or now
            document.review_started_by = document.review_started_by or principal.user_id
            document.assigned_reviewer_id = document.assigned_reviewer_id or principal.user_id
            await self.session.flush()

    async def document(
        self, principal: Principal, document_id: uuid.UUID, *, start_review: bool = True
    ) -> DocumentRead:
        row = await self.visible_document(principal, document_id, lock=start_review)
        if start_review:
            await self.open_for_review(principal, row)
        return document_read(row, utcnow().date())

    async def content(
        self, principal: Principal, document_id: uuid.UUID, *, start_review: bool = True
    ) -> DocumentContent:
        row = await self.visible_document(principal, document_id, lock=start_review)
        if start_review:
            await self.open_for_review(principal, row)
        document, stored, _ = row
        chunks = await self.container.objects.open(
            stored.storage_key, WrappedKey(stored.key_version, stored.wrapped_key), stored.sha256
        )
        return DocumentContent(
            filename=document.filename,
            content_type=stored.content_type,
            size=stored.plaintext_size,
            chunks=chunks,
        )

    async def submission(self, principal: Principal, reference: str) -> SubmissionRead:
        context.describe_resource("credential_submission")
        submission = await self.repository.submission_by_reference(
            normalize_reference(reference)[:16], tenant=principal.organization_id
        )
        if submission is None or not policies.can_see_document(
            principal, submission.practitioner_id
        ):
            raise CredentialSubmissionNotFound(SUBMISSION_NOT_FOUND)
        context.describe_resource("credential_submission", submission.id)
        rows = await self.repository.documents_of_submission(
            submission.id, tenant=principal.organization_id
        )
        today = utcnow().date()
        current = [document_read(row, today) for row in rows if row[0].is_current]
        return SubmissionRead(
            reference=submission.reference,
            practitioner_id=submission.practitioner_id,
            status=submission_status(d.status.value for d in current),
            submitted_at=submission.submitted_at,
            estimated_review_by=submission.estimated_review_by,
            documents=[document_read(row, today) for row in rows],
        )

    async def mine(self, principal: Principal) -> list[DocumentRead]:
        context.describe_resource("credential_document")
        rows = await self.repository.documents_of_practitioner(
            principal.user_id, tenant=principal.organization_id
        )
        today = utcnow().date()
        return [document_read(row, today) for row in rows if row[0].is_current]

    async def expiring(self, principal: Principal, within_days: int) -> list[DocumentRead]:
        context.describe_resource("credential_document")
        today = utcnow().date()
        rows = await self.repository.expiring(
            tenant=principal.organization_id,
            until=today + timedelta(days=within_days),
            practitioner_id=None
            if policies.sees_organization_expiries(principal)
            else principal.user_id,
        )
        return [document_read(row, today) for row in rows]
