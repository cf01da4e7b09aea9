"""Use cases: submit credential documents, replace a rejected one."""

from __future__ import annotations

import uuid

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.bootstrap import Container
from clinvault.credentials import policies
from clinvault.credentials.design_request import design_upload, provider_mismatch
from clinvault.credentials.intake import CheckedFile, IntakeService, Problems, object_key
from clinvault.credentials.json_upload import JsonUpload
from clinvault.credentials.schemas import DocumentMetadata, DocumentStatus, SubmissionCreated
from clinvault.credentials.uploads import ParsedUpload
from clinvault.credentials.workflows import review_workflow_id
from clinvault.errors import (
    CredentialDocumentNotFound,
    CredentialMetadataInvalid,
    CredentialNotReplaceable,
    PermissionDenied,
)
from clinvault.errors.credentials import CredentialProviderMismatch
from clinvault.identity.principal import Principal
from clinvault.ids import uuid7
from clinvault.models.credentials import CredentialDocument, CredentialSubmission
from clinvault.models.objects import EncryptedObject
from clinvault.storage.objects import StoredObject
from clinvault.timeutil import utcnow

log = structlog.get_logger(__name__)

DOCUMENT_NOT_FOUND = "No such document: list yours with GET /api/credentials/mine."


def _object_row(
    organization_id: uuid.UUID, key: str, stored: StoredObject, item: CheckedFile
) -> EncryptedObject:
    return EncryptedObject(
        id=uuid7(),
        organization_id=organization_id,
        storage_key=key,
        wrapped_key=stored.wrapped_key,
        key_version=stored.key_version,
        plaintext_size=stored.plaintext_size,
        sha256=stored.sha256,
        content_type=item.inspected.content_type,
    )


def _document_row(
    *,
    document_id: uuid.UUID,
    principal: Principal,
    submission_id: uuid.UUID,
    stored: EncryptedObject,
    item: CheckedFile,
    version: int,
    workflow_id: str,
    replaces_id: uuid.UUID | None = None,
) -> CredentialDocument:
    metadata = item.metadata
    now = utcnow()
    return CredentialDocument(
        id=document_id,
        organization_id=principal.organization_id,
        submission_id=submission_id,
        practitioner_id=principal.user_id,
        object_id=stored.id,
        category=metadata.category,
        issuing_authority=metadata.issuing_authority,
        issued_on=metadata.issued_on,
        expires_on=metadata.expires_on,
        document_number=metadata.document_number,
        filename=item.inspected.filename,
        version=version,
        replaces_id=replaces_id,
        is_current=True,
        status=DocumentStatus.SUBMITTED.value,
        status_changed_at=now,
        review_workflow_id=workflow_id,
        created_at=now,
    )


class SubmissionService:
    def __init__(self, session: AsyncSession, container: Container) -> None:
        self.intake = IntakeService(session, container)
        self.repository = self.intake.repository

    async def submit(
        self,
        principal: Principal,
        upload: ParsedUpload,
        entries: list[DocumentMetadata | Problems] | None = None,
    ) -> SubmissionCreated:
        context.describe_resource("credential_submission")
        await self.intake.require_practitioner(principal)
        checked = await self.intake.check(principal, upload, entries)
        submission_id = uuid7()
        workflow_id = review_workflow_id(submission_id)
        document_ids = [uuid7() for _ in checked]
        org, who = principal.organization_id, principal.user_id
        keys = [object_key(org, who, document_id, 1) for document_id in document_ids]
        review_by = await self.intake.review_date(principal)
        reference = await self.intake.new_reference()
        stored = await self.intake.store_objects(org, list(zip(keys, checked, strict=True)))
        objects = [
            _object_row(org, key, result, item)
            for key, result, item in zip(keys, stored, checked, strict=True)
        ]
        submission = CredentialSubmission(
            id=submission_id,
            organization_id=org,
            practitioner_id=who,
            reference=reference,
            submitted_at=utcnow(),
            estimated_review_by=review_by,
        )
        documents = [
            _document_row(
                document_id=document_id,
                principal=principal,
                submission_id=submission_id,
                stored=row,
                item=item,
                version=1,
                workflow_id=workflow_id,
            )
            for document_id, row, item in zip(document_ids, objects, checked, strict=True)
        ]
        await self.intake.persist(principal, submission, documents, objects, keys)
        context.describe_resource("credential_submission", submission_id)
        self.intake.start_review_after_commit(workflow_id, submission_id, document_ids, review_by)
        log.info(
            "credential.submission.stored",
            submission_id=str(submission_id),
            documents=len(documents),
        )
        return SubmissionCreated(
            reference=reference,
            submitted_at=submission.submitted_at,
            estimated_review_by=review_by,
            documents=self.intake.summaries(documents),
        )

    async def submit_json(self, principal: Principal, received: JsonUpload) -> SubmissionCreated:
        """The credential-upload design's JSON documents, through the same intake as
        multipart; the provider is the signed-in user, whom the body may only confirm."""
        context.describe_resource("credential_submission")
        request = design_upload(received)
        user = await self.repository.user_global(principal.user_id)
        mismatch = provider_mismatch(request.claims, principal.user_id, user.email if user else "")
        if mismatch is not None:
            context.note_detail("provider_mismatch")
            raise CredentialProviderMismatch(
                f"{mismatch} names another account: credentials are submitted for the "
                "signed-in user only. Leave providerId and providerEmail out, or send your own "
                "(GET /api/auth/profile); nothing was stored."
            )
        return await self.submit(principal, request.upload, request.entries)

    async def replace(
        self, principal: Principal, document_id: uuid.UUID, upload: ParsedUpload
    ) -> SubmissionCreated:
        """A new version of a rejected document, linked to it and reviewed again."""
        context.describe_resource("credential_document", document_id)
        found = await self.repository.document(
            document_id, tenant=principal.organization_id, lock=True
        )
        if found is None or not policies.can_see_document(principal, found[0].practitioner_id):
            raise CredentialDocumentNotFound(DOCUMENT_NOT_FOUND)
        previous, _, submission = found
        if not policies.can_replace(principal, previous.practitioner_id):
            raise PermissionDenied("Only the practitioner who submitted a document replaces it.")
        if previous.status != DocumentStatus.REJECTED or not previous.is_current:
            raise CredentialNotReplaceable(
                "Only the current version of a rejected document can be replaced."
            )
        await self.intake.require_practitioner(principal)
        if len(upload.files) != 1:
            raise CredentialMetadataInvalid("Send exactly one file to replace a document.")
        checked = await self.intake.check(principal, upload)
        item = checked[0]
        if item.metadata.category != previous.category:
            raise CredentialMetadataInvalid(
                f"A replacement keeps the category {previous.category!r}: correct 'category'."
            )
        new_id = uuid7()
        version = previous.version + 1
        workflow_id = review_workflow_id(submission.id, previous.id)
        org = principal.organization_id
        key = object_key(org, principal.user_id, new_id, version)
        review_by = await self.intake.review_date(principal)
        stored = await self.intake.store_objects(org, [(key, item)])
        row = _object_row(org, key, stored[0], item)
        document = _document_row(
            document_id=new_id,
            principal=principal,
            submission_id=submission.id,
            stored=row,
            item=item,
            version=version,
            workflow_id=workflow_id,
            replaces_id=previous.id,
        )
        await self.repository.supersede(previous.id, tenant=org)
        submission.estimated_review_by = review_by
        await self.intake.persist(principal, None, [document], [row], [key])
        context.describe_resource("credential_document", new_id)
        self.intake.start_review_after_commit(workflow_id, submission.id, [new_id], review_by)
        return SubmissionCreated(
            reference=submission.reference,
            submitted_at=document.created_at,
            estimated_review_by=review_by,
            documents=self.intake.summaries([document]),
        )
