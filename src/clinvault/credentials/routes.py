"""HTTP routes of credential intake, status, review and expiry."""

from __future__ import annotations

import re
import uuid
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Body, Query, Request, status
from fastapi import Path as PathParam
from fastapi.responses import StreamingResponse

from clinvault.api_contract import problem_responses
from clinvault.config import Settings
from clinvault.credentials.design_schema import DESIGN_BODY_SCHEMA
from clinvault.credentials.json_upload import (
    is_json_media_type,
    json_body_limit,
    receive_json_upload,
)
from clinvault.credentials.review import ReviewService
from clinvault.credentials.review_work import ReviewWork
from clinvault.credentials.schemas import (
    CategoryCreate,
    CategoryRead,
    DecisionRequest,
    DocumentPage,
    DocumentRead,
    DocumentStatus,
    ProfileRead,
    ProfileUpdate,
    ReviewStart,
    SubmissionCreated,
    SubmissionRead,
)
from clinvault.credentials.service import CredentialService
from clinvault.credentials.submission_service import SubmissionService
from clinvault.credentials.uploads import (
    API_FORMAT_HINT,
    ParsedUpload,
    UploadLimits,
    receive_upload,
)
from clinvault.deps import ContainerDep, PrincipalDep, SessionDep
from clinvault.inputs import Days, Limit, Offset, SingleLine
from clinvault.storage.spool import spool_root

router = APIRouter(prefix="/api/credentials", tags=["credentials"])

SUBMISSIONS_PATH = re.compile(r"/api/credentials/submissions/?")
REPLACEMENT_PATH = re.compile(r"/api/credentials/documents/[^/]+/replacement/?")
MULTIPART_OVERHEAD = 1024 * 1024
# Routes that read their JSON body themselves, as a stream (the API guard leaves it alone).
STREAMED_JSON_PATHS = [SUBMISSIONS_PATH]
UPLOAD_DOC = (
    "multipart/form-data: repeated `files` parts and one `metadata` part holding a JSON "
    "array with one object per file, in order: category, issuing_authority, issued_on, "
    "expires_on and document_number (neither for curriculum_vitae), optional sha256."
)
SUBMISSION_FORMAT_HINT = (
    "Send the documents as multipart/form-data with 'files' parts and one 'metadata' part, "
    "or as application/json (one document or an array, each file base64 in 'content')."
)
SUBMISSION_DOC = (
    UPLOAD_DOC
    + "\n\nOr application/json, the credential-upload design's shape: one document or an "
    "array of them, each with the file as base64 in `content`. The declared `size` and `type` "
    "are checked against the decoded bytes (422 on a mismatch); `providerId` and "
    "`providerEmail`, when given, must name the signed-in user (403 otherwise); `category` "
    "in any case. Each decoded document has the multipart file limit, the body the "
    "submission limit in base64 (4/3) plus 256 KiB."
)


def _multipart_body(max_files: str, *, max_items: int | None = None) -> dict[str, object]:
    """The OpenAPI description of an upload: the route reads the multipart stream itself."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["files", "metadata"],
                        "additionalProperties": False,
                        "properties": {
                            "files": {
                                "type": "array",
                                "items": {"type": "string", "format": "binary"},
                                "minItems": 1,
                                **({"maxItems": max_items} if max_items else {}),
                                "description": f"The documents ({max_files}).",
                            },
                            "metadata": {
                                "type": "string",
                                "description": "A JSON array with one object per file, in "
                                "file order (see the operation's description).",
                            },
                        },
                    }
                }
            },
        }
    }


def _with_json_body(spec: dict[str, object]) -> dict[str, object]:
    """The submission body: multipart, or the design's JSON documents."""
    content = spec["requestBody"]["content"]  # type: ignore[index]
    content["application/json"] = {"schema": DESIGN_BODY_SCHEMA}
    return spec


def body_limit_overrides(settings: Settings) -> list[tuple[re.Pattern[str], int]]:
    """Body limits of the upload paths for RequestPipeline (exact limits are enforced here).

    The submission path's outer bound is the larger one, the JSON body's (base64)."""
    policy = settings.credentials
    return [
        (
            SUBMISSIONS_PATH,
            max(
                policy.max_submission_bytes + MULTIPART_OVERHEAD,
                json_body_limit(policy.max_submission_bytes),
            ),
        ),
        (REPLACEMENT_PATH, policy.max_file_bytes + MULTIPART_OVERHEAD),
    ]


async def _receive(
    request: Request, settings: Settings, *, max_files: int, hint: str = API_FORMAT_HINT
) -> ParsedUpload:
    policy = settings.credentials
    return await receive_upload(
        request.headers.get("content-type"),
        request.stream(),
        UploadLimits(
            max_file_bytes=policy.max_file_bytes,
            max_body_bytes=policy.max_submission_bytes,
            max_files=max_files,
        ),
        spool_root=spool_root(settings),
        hint=hint,
    )


@router.get("/profile", name="credentials.profile.read")
async def read_profile(
    principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> ProfileRead:
    return await CredentialService(session, container).profile(principal)


@router.put("/profile", name="credentials.profile.update")
async def put_profile(
    body: ProfileUpdate, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> ProfileRead:
    """Create or update your practitioner profile; the NPI must pass its check digit."""
    return await CredentialService(session, container).put_profile(principal, body)


@router.get("/categories", name="credentials.categories.list")
async def list_categories(
    principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> list[CategoryRead]:
    return await CredentialService(session, container).categories(principal)


@router.post(
    "/categories", name="credentials.categories.create", status_code=status.HTTP_201_CREATED
)
async def create_category(
    body: CategoryCreate, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> CategoryRead:
    """Add an organization category (organization admins)."""
    return await CredentialService(session, container).add_category(principal, body)


@router.post(
    "/submissions",
    name="credentials.submissions.create",
    status_code=status.HTTP_201_CREATED,
    description=SUBMISSION_DOC,
    openapi_extra=_with_json_body(_multipart_body("one or more")),
    responses=problem_responses(400, 413, 422),
)
async def submit(
    request: Request, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> SubmissionCreated:
    service = SubmissionService(session, container)
    await service.intake.require_practitioner(principal)
    if is_json_media_type(request.headers.get("content-type")):
        policy = container.settings.credentials
        received = await receive_json_upload(
            request.stream(),
            UploadLimits(
                max_file_bytes=policy.max_file_bytes,
                max_body_bytes=policy.max_submission_bytes,
                max_files=policy.max_files,
            ),
            spool_root=spool_root(container.settings),
        )
        try:
            return await service.submit_json(principal, received)
        finally:
            received.cleanup()
    upload = await _receive(
        request,
        container.settings,
        max_files=container.settings.credentials.max_files,
        hint=SUBMISSION_FORMAT_HINT,
    )
    try:
        return await service.submit(principal, upload)
    finally:
        upload.cleanup()


@router.get("/submissions/{reference}", name="credentials.submissions.read")
async def read_submission(
    reference: Annotated[Annotated[str, SingleLine(32)], PathParam()],
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
) -> SubmissionRead:
    return await CredentialService(session, container).submission(principal, reference)


@router.get("/mine", name="credentials.mine")
async def mine(
    principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> list[DocumentRead]:
    """Your current credential documents with status and days to expiry."""
    return await CredentialService(session, container).mine(principal)


@router.get("/expiring", name="credentials.expiring")
async def expiring(
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
    within_days: Annotated[Days, Query(description="Days from today")] = 90,
) -> list[DocumentRead]:
    """Documents expiring within N days: the organization's for reviewers and admins."""
    return await CredentialService(session, container).expiring(principal, within_days)


@router.get("/review-queue", name="credentials.review_queue")
async def review_queue(
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
    status_filter: Annotated[DocumentStatus | None, Query(alias="status")] = None,
    category: Annotated[str, SingleLine(64)] | None = None,
    practitioner: uuid.UUID | None = None,
    limit: Annotated[Limit, Query(description="Page size")] = 50,
    offset: Annotated[Offset, Query(description="Items to skip")] = 0,
) -> DocumentPage:
    return await ReviewService(session, container).queue(
        principal,
        status=status_filter,
        category=category,
        practitioner_id=practitioner,
        limit=limit,
        offset=offset,
    )


@router.get("/documents/{document_id}", name="credentials.documents.read")
async def read_document(
    document_id: uuid.UUID, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> DocumentRead:
    return await CredentialService(session, container).document(principal, document_id)


@router.get("/documents/{document_id}/content", name="credentials.documents.content")
async def document_content(
    document_id: uuid.UUID, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> StreamingResponse:
    """The decrypted file, checked against its SHA-256 on the way out."""
    content = await CredentialService(session, container).content(principal, document_id)
    ascii_name = content.filename.encode("ascii", "replace").decode().replace('"', "_")
    disposition = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(content.filename)}"
    )
    return StreamingResponse(
        content.chunks,
        media_type=content.content_type,
        headers={
            "Content-Disposition": disposition,
            "Content-Length": str(content.size),
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.post("/documents/{document_id}/decision", name="credentials.documents.decide")
async def decide(
    document_id: uuid.UUID,
    body: DecisionRequest,
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
) -> DocumentRead:
    """Verify or reject (with reason_code and note) a document waiting for review."""
    return await ReviewService(session, container).decide(principal, document_id, body)


@router.post("/documents/{document_id}/review", name="credentials.documents.start_review")
async def start_review(
    document_id: uuid.UUID,
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
    body: Annotated[ReviewStart | None, Body()] = None,
) -> DocumentRead:
    """Start the review of a waiting document (assigned to the caller), or hand it to
    another reviewer with `assignee_id`; the body is optional."""
    assignee = body.assignee_id if body is not None else None
    return await ReviewWork(session, container).start_review(principal, document_id, assignee)


@router.post(
    "/documents/{document_id}/replacement",
    name="credentials.documents.replace",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=_multipart_body("exactly one", max_items=1),
    responses=problem_responses(400, 409, 413, 422),
)
async def replace(
    document_id: uuid.UUID,
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
) -> SubmissionCreated:
    """Upload a new version of a rejected document: one `files` part and its `metadata`."""
    service = SubmissionService(session, container)
    upload = await _receive(request, container.settings, max_files=1)
    try:
        return await service.replace(principal, document_id, upload)
    finally:
        upload.cleanup()
