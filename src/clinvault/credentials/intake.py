"""Credential submissions and replacements: check everything, then store all or nothing.

Order of work: the metadata and every file are checked (files by
`clinvault.filecheck`, in threads); any problem answers 422 with the problems
of each file and nothing is written. Then each document is encrypted under its
own data key and written; if a write fails, the objects already written are
deleted. Last, the rows are added to the request's transaction (committed with
its audit event) and the review workflow starts after the commit.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import structlog
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.bootstrap import Container
from clinvault.credentials import policies, workflows
from clinvault.credentials.categories import (
    CURRICULUM_VITAE,
    DEA_REGISTRATION,
    Category,
    all_categories,
)
from clinvault.credentials.design_request import declared_problems
from clinvault.credentials.identifiers import dea_number_is_valid, npi_is_valid
from clinvault.credentials.repository import CredentialRepository
from clinvault.credentials.schemas import DocumentMetadata, DocumentStatus, DocumentSummary
from clinvault.credentials.uploads import MAX_METADATA_BYTES, ParsedUpload, UploadedFile
from clinvault.credentials.views import estimated_review_date
from clinvault.db import after_commit
from clinvault.errors import (
    CredentialFilesRejected,
    CredentialMetadataInvalid,
    PractitionerProfileRequired,
    ServiceUnavailable,
)
from clinvault.errors.inputs import JsonRejected, JsonTooLarge
from clinvault.filecheck.filenames import sanitize_filename
from clinvault.filecheck.model import (
    FileKind,
    FilePolicy,
    FileRejected,
    InspectedFile,
    VirusScanFailed,
)
from clinvault.identity.policies import require
from clinvault.identity.principal import Principal
from clinvault.ids import reference
from clinvault.inputs import parse_json
from clinvault.models.credentials import CredentialDocument, CredentialSubmission
from clinvault.models.objects import EncryptedObject
from clinvault.storage.objects import StoredObject
from clinvault.timeutil import utcnow

log = structlog.get_logger(__name__)

REFERENCE_ATTEMPTS = 8
METADATA_MAX_DEPTH = 4
Problems = list[dict[str, str]]


@dataclass(frozen=True, slots=True)
class CheckedFile:
    upload: UploadedFile
    metadata: DocumentMetadata
    inspected: InspectedFile


def _problem(code: str, detail: str) -> dict[str, str]:
    return {"code": code, "detail": detail}


def parse_metadata(raw: bytes | None, count: int) -> list[DocumentMetadata | Problems]:
    """The metadata part as one entry per file: the parsed entry or its problems."""
    if raw is None:
        raise CredentialMetadataInvalid(
            "Add one 'metadata' part: a JSON array with one object per file, in file order."
        )
    try:
        entries: Any = parse_json(
            raw,
            max_depth=METADATA_MAX_DEPTH,
            max_bytes=MAX_METADATA_BYTES,
            source="The 'metadata' part",
        )
    except (JsonRejected, JsonTooLarge) as exc:
        raise CredentialMetadataInvalid(exc.detail) from None
    if not isinstance(entries, list):
        shape = "a single object" if isinstance(entries, dict) else "not an array"
        raise CredentialMetadataInvalid(
            f"metadata: the 'metadata' part is {shape}; send a JSON array with one object "
            f"per file, in file order (here {count}), even for one file: [{{...}}]."
        )
    if len(entries) != count:
        raise CredentialMetadataInvalid(
            f"metadata: the 'metadata' part must be a JSON array with exactly {count} "
            f"object(s), one per file, in the order of the files; it has {len(entries)}."
        )
    parsed: list[DocumentMetadata | Problems] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            parsed.append(
                [_problem("metadata_invalid", f"metadata[{index}]: must be a JSON object")]
            )
            continue
        try:
            parsed.append(DocumentMetadata.model_validate(entry))
        except ValidationError as exc:
            parsed.append(
                [
                    _problem(
                        "metadata_invalid",
                        f"metadata[{index}].{'.'.join(str(p) for p in error['loc']) or 'entry'}"
                        f": {error['msg']}",
                    )
                    for error in exc.errors()
                ]
            )
    return parsed


def metadata_problems(
    metadata: DocumentMetadata, category: Category | None, today: date
) -> Problems:
    problems: Problems = []
    if category is None:
        problems.append(
            _problem(
                "category_unknown",
                f"Unknown category {metadata.category!r}: list the categories with "
                "GET /api/credentials/categories.",
            )
        )
    if metadata.issued_on > today:
        problems.append(_problem("issued_in_future", "issued_on is in the future: correct it."))
    if metadata.expires_on is None:
        if category is not None and category.requires_expiry:
            problems.append(
                _problem(
                    "expiry_required",
                    f"A {category.label.lower()} needs expires_on: add the expiry date.",
                )
            )
    elif metadata.expires_on <= metadata.issued_on:
        problems.append(
            _problem(
                "expiry_before_issue", "expires_on must be after issued_on: correct the dates."
            )
        )
    if not metadata.document_number.strip() and metadata.category != CURRICULUM_VITAE:
        label = category.label.lower() if category is not None else "document"
        problems.append(
            _problem(
                "document_number_required",
                f"A {label} needs document_number: add the number printed on it.",
            )
        )
    elif metadata.category == DEA_REGISTRATION and not dea_number_is_valid(
        metadata.document_number
    ):
        problems.append(
            _problem(
                "dea_number_invalid",
                "The DEA number fails its check digit: copy it again from the registration.",
            )
        )
    return problems


def _file_policy(
    category: Category | None, max_bytes: int, default_kinds: Sequence[str]
) -> FilePolicy:
    kinds = category.allowed_kinds if category is not None else tuple(default_kinds)
    return FilePolicy(
        allowed_kinds=frozenset(FileKind(kind) for kind in kinds), max_bytes=max_bytes
    )


def object_key(
    organization_id: uuid.UUID, practitioner_id: uuid.UUID, document_id: uuid.UUID, version: int
) -> str:
    return f"orgs/{organization_id}/credentials/{practitioner_id}/{document_id}/v{version}"


class IntakeService:
    def __init__(self, session: AsyncSession, container: Container) -> None:
        self.session = session
        self.container = container
        self.policy = container.settings.credentials
        self.repository = CredentialRepository(session)

    async def require_practitioner(self, principal: Principal) -> None:
        profile = await self.repository.profile(principal.user_id, tenant=principal.organization_id)
        require(
            policies.can_submit(principal, profile is not None),
            "Only practitioners (doctors, nurses, or accounts with a practitioner profile) "
            "submit credentials.",
        )
        if profile is None or not profile.npi or not npi_is_valid(profile.npi):
            context.note_detail("npi_missing")
            raise PractitionerProfileRequired(
                "Set your NPI first with PUT /api/credentials/profile, then submit again."
            )

    async def check(
        self,
        principal: Principal,
        upload: ParsedUpload,
        entries: list[DocumentMetadata | Problems] | None = None,
    ) -> list[CheckedFile]:
        """Every problem of every file, as one 422; or the checked files.

        `entries` are the files' metadata when the request carried them another way than
        the multipart 'metadata' part (the JSON request)."""
        if not upload.files:
            raise CredentialMetadataInvalid("Attach at least one file as a 'files' part.")
        if entries is None:
            entries = parse_metadata(upload.metadata, len(upload.files))
        categories = all_categories(
            self.policy, await self.repository.categories(tenant=principal.organization_id)
        )
        today = utcnow().date()

        async def check_one(
            item: UploadedFile, entry: DocumentMetadata | Problems
        ) -> tuple[Problems, InspectedFile | None]:
            problems: Problems = []
            declared: str | None = None
            category: Category | None = None
            if isinstance(entry, DocumentMetadata):
                category = categories.get(entry.category)
                problems.extend(metadata_problems(entry, category, today))
                declared = entry.sha256
            else:
                problems.extend(entry)
            file_policy = _file_policy(
                category, self.policy.max_file_bytes, self.policy.default_kinds
            )
            try:
                async with item.spooled.plaintext() as plaintext:
                    inspected = await self.container.file_checks.inspect(
                        plaintext,
                        item.client_filename,
                        file_policy,
                        declared_sha256=declared,
                    )
            except FileRejected as rejected:
                problems.extend(_problem(p.code, p.detail) for p in rejected.problems)
                problems.extend(declared_problems(item, None))
                return problems, None
            except VirusScanFailed as exc:
                raise ServiceUnavailable(
                    "The virus scanner is unavailable: try again in a few minutes."
                ) from exc
            problems.extend(declared_problems(item, inspected))
            return problems, inspected

        results = await asyncio.gather(
            *(check_one(item, entry) for item, entry in zip(upload.files, entries, strict=True))
        )
        errors = [
            {
                "file": item.index,
                "filename": sanitize_filename(item.client_filename),
                "problems": problems,
            }
            for item, (problems, _) in zip(upload.files, results, strict=True)
            if problems
        ]
        if errors:
            context.note_detail("files_rejected")
            raise CredentialFilesRejected(
                f"{len(errors)} of {len(upload.files)} file(s) were rejected and nothing was "
                "stored: fix the listed problems and send the submission again.",
                errors=errors,
            )
        checked: list[CheckedFile] = []
        for item, entry, (_, inspected) in zip(upload.files, entries, results, strict=True):
            assert isinstance(entry, DocumentMetadata)
            assert inspected is not None
            checked.append(CheckedFile(item, entry, inspected))
        return checked

    async def store_objects(
        self, organization_id: uuid.UUID, keyed: Sequence[tuple[str, CheckedFile]]
    ) -> list[StoredObject]:
        """Encrypt and write every file; on any failure remove the ones already written."""
        written: list[str] = []
        stored: list[StoredObject] = []
        try:
            for key, item in keyed:
                written.append(key)
                result = await self.container.objects.put(key, item.upload.spooled.chunks())
                if result.sha256 != item.inspected.sha256:
                    raise RuntimeError("the spooled file changed between check and storage")
                stored.append(result)
        except BaseException:
            await self.delete_objects(written)
            raise
        return stored

    async def delete_objects(self, keys: Sequence[str]) -> None:
        for key in keys:
            try:
                await self.container.objects.delete(key)
            except Exception:
                log.exception(
                    "credential.object.cleanup_failed", organization_key=key.split("/")[1]
                )

    async def new_reference(self) -> str:
        for _ in range(REFERENCE_ATTEMPTS):
            candidate = reference()
            if not await self.repository.reference_taken_global(candidate):
                return candidate
        raise RuntimeError("no free submission reference after several attempts")

    async def review_date(self, principal: Principal) -> date:
        waiting = await self.repository.pending_count(tenant=principal.organization_id)
        return estimated_review_date(
            utcnow().date(),
            self.policy.review_sla_business_days,
            waiting,
            self.policy.queue_depth_per_extra_day,
        )

    async def persist(
        self,
        principal: Principal,
        submission: CredentialSubmission | None,
        documents: list[CredentialDocument],
        objects: list[EncryptedObject],
        keys: list[str],
    ) -> None:
        """Add the rows to the request's transaction; delete the objects if that fails."""
        try:
            if submission is not None:
                await self.repository.add_all([submission])
            await self.repository.add_all(objects)
            await self.repository.add_all(documents)
        except BaseException:
            await self.delete_objects(keys)
            raise

    def start_review_after_commit(
        self,
        workflow_id: str,
        submission_id: uuid.UUID,
        document_ids: list[uuid.UUID],
        review_by: date,
    ) -> None:
        after_commit(
            self.session,
            lambda: workflows.start_review(workflow_id, submission_id, document_ids, review_by),
        )

    def summaries(self, documents: Sequence[CredentialDocument]) -> list[DocumentSummary]:
        return [
            DocumentSummary(id=d.id, category=d.category, status=DocumentStatus(d.status))
            for d in documents
        ]
