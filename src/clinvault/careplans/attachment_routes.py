"""HTTP routes: a plan's attached documents (multipart upload, list, decrypted download,
removal) and each user's care-plan email preference."""

from __future__ import annotations

import re
import uuid
from typing import Annotated

from fastapi import APIRouter, Path, UploadFile, status
from fastapi.responses import StreamingResponse

from clinvault.api_contract import problem_responses
from clinvault.attached_file_routes import download, spooled_upload, upload_limit
from clinvault.careplans.attachments import CarePlanAttachmentService
from clinvault.careplans.preferences import MailPreferenceService
from clinvault.careplans.schemas import AttachmentRead, MailPreference
from clinvault.config import Settings
from clinvault.deps import ContainerDep, PrincipalDep, SessionDep

router = APIRouter(prefix="/api/care-plans", tags=["care plans"], responses=problem_responses(404))
preferences_router = APIRouter(prefix="/api/care-plans", tags=["care plans"])
Id = Annotated[uuid.UUID, Path(description="The care plan id")]
AttachmentId = Annotated[uuid.UUID, Path(description="The attached document's id")]

UPLOAD_PATH = re.compile(r"/api/care-plans/[^/]+/attachments/?")
SPOOL_PREFIX = "cp-attachment-"


def body_limit_overrides(settings: Settings) -> list[tuple[re.Pattern[str], int]]:
    """Only the document upload admits a body larger than the JSON limit (RequestPipeline)."""
    return upload_limit(UPLOAD_PATH, settings)


@router.post(
    "/{plan_id}/attachments",
    name="careplans.attachments.create",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(413, 415),
)
async def attach_document(
    plan_id: Id,
    file: UploadFile,
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
) -> AttachmentRead:
    """Attach one PDF, JPEG or PNG (multipart part `file`), checked by its content and
    stored encrypted; tied to the plan's current version. Users who may edit the plan."""
    async with spooled_upload(file, container.settings, SPOOL_PREFIX) as path:
        return await CarePlanAttachmentService(session, container).attach(
            principal, plan_id, path, file.filename or ""
        )


@router.get("/{plan_id}/attachments", name="careplans.attachments.list")
async def list_attachments(
    plan_id: Id, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> list[AttachmentRead]:
    """Every document attached to the plan, oldest first, removed ones marked as such."""
    return await CarePlanAttachmentService(session, container).listing(principal, plan_id)


@router.get(
    "/{plan_id}/attachments/{attachment_id}",
    name="careplans.attachments.read",
    response_class=StreamingResponse,
)
async def download_attachment(
    plan_id: Id,
    attachment_id: AttachmentId,
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
) -> StreamingResponse:
    """The decrypted document, streamed, for anyone who sees the plan."""
    content = await CarePlanAttachmentService(session, container).content(
        principal, plan_id, attachment_id
    )
    return download(content)


@router.delete("/{plan_id}/attachments/{attachment_id}", name="careplans.attachments.remove")
async def remove_attachment(
    plan_id: Id,
    attachment_id: AttachmentId,
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
) -> AttachmentRead:
    """Take a document off the plan; it stays on record with who removed it and when."""
    return await CarePlanAttachmentService(session, container).remove(
        principal, plan_id, attachment_id
    )


@preferences_router.get("/preferences", name="careplans.preferences.read")
async def read_preferences(principal: PrincipalDep, session: SessionDep) -> MailPreference:
    """Your care-plan email delivery: `immediate` or `daily_digest`."""
    return await MailPreferenceService(session).get(principal)


@preferences_router.put("/preferences", name="careplans.preferences.update")
async def update_preferences(
    body: MailPreference, principal: PrincipalDep, session: SessionDep
) -> MailPreference:
    """Choose one email per event (`immediate`) or one a day (`daily_digest`); in-app
    notifications stay immediate."""
    return await MailPreferenceService(session).set(principal, body)
