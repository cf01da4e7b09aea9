"""HTTP routes of CSV ingest: /api/ingest/."""

from __future__ import annotations

import re
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import StreamingResponse

from clinvault import context
from clinvault.api_contract import problem_responses
from clinvault.config import Settings
from clinvault.deps import ContainerDep, PrincipalDep, SessionDep
from clinvault.ingest.schemas import (
    JobPage,
    JobRead,
    SettingsRead,
    SettingsUpdate,
    UploadCreate,
    UploadTicket,
)
from clinvault.ingest.service import IngestService, signer
from clinvault.records.http import PageDep

router = APIRouter(prefix="/api/ingest", tags=["csv ingest"], responses=problem_responses(403))

CONTENT_PATH = re.compile(r"/api/ingest/uploads/[^/]+/content/?")
SignedParam = Annotated[str, Query(max_length=200)]


def body_limit_overrides(settings: Settings) -> list[tuple[re.Pattern[str], int]]:
    """Only the signed PUT admits a body larger than the JSON limit (checked while streaming)."""
    return [(CONTENT_PATH, settings.ingest.max_file_bytes)]


@router.post("/uploads", name="ingest.upload.create", status_code=status.HTTP_201_CREATED)
async def create_upload(
    body: UploadCreate, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> UploadTicket:
    """A URL for one PUT of the CSV file (organization administrators and clerks)."""
    return await IngestService(session, container).create_upload(principal, body, presign=True)


@router.put(
    "/uploads/{upload_id}/content",
    name="ingest.upload.content",
    status_code=status.HTTP_202_ACCEPTED,
)
async def put_content(
    upload_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    container: ContainerDep,
    org: SignedParam,
    expires: SignedParam,
    max_bytes: SignedParam,
    signature: SignedParam,
) -> JobRead:
    """The file's bytes, to the signed URL (the signature is the credential; usable once).

    Starts the import job; the reply is the job, to follow with GET /api/ingest/jobs/{id}.
    """
    context.describe_resource("ingest_upload", upload_id)
    organization_id, _ = signer(container).verify(
        upload_id, organization=org, expires=expires, max_bytes=max_bytes, signature=signature
    )
    async with container.db.unit_of_work() as claim:
        await IngestService(claim, container).claim(upload_id, organization_id)
    try:
        return await IngestService(session, container).receive(
            upload_id, organization_id, request.stream()
        )
    except BaseException:
        async with container.db.unit_of_work() as release:
            await IngestService(release, container).release(upload_id, organization_id)
        raise


@router.post(
    "/uploads/{upload_id}/complete",
    name="ingest.upload.complete",
    responses=problem_responses(409, 410),
)
async def complete_upload(
    upload_id: uuid.UUID, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> JobRead:
    """After the PUT: the upload's job.

    With S3 storage this checks the object PUT to the bucket (not there yet: 409;
    the upload expired: 410; another size or checksum, or no server-side
    encryption: 422, and the object is deleted) and starts the job. Completing
    again returns the same job.
    """
    return await IngestService(session, container).complete(principal, upload_id)


@router.get("/jobs", name="ingest.job.list")
async def list_jobs(
    principal: PrincipalDep, session: SessionDep, container: ContainerDep, paging: PageDep
) -> JobPage:
    """The organization's import jobs, newest first."""
    return await IngestService(session, container).list_jobs(principal, paging)


@router.get("/jobs/{job_id}", name="ingest.job.read")
async def read_job(
    job_id: uuid.UUID, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> JobRead:
    """State, counts and progress of one job."""
    return await IngestService(session, container).get_job(principal, job_id)


@router.post("/jobs/{job_id}/cancel", name="ingest.job.cancel")
async def cancel_job(
    job_id: uuid.UUID, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> JobRead:
    """Stop a running job after its current batch; what it committed stays."""
    return await IngestService(session, container).cancel(principal, job_id)


@router.get("/jobs/{job_id}/error-report", name="ingest.job.error_report")
async def error_report(
    job_id: uuid.UUID, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> StreamingResponse:
    """Every rejected row as CSV: line, column, error code, message, the original cells."""
    body = await IngestService(session, container).error_report(principal, job_id)
    return StreamingResponse(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="import-{job_id}-errors.csv"'},
    )


@router.get("/settings", name="ingest.settings.read")
async def read_settings(
    principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> SettingsRead:
    return await IngestService(session, container).settings(principal)


@router.put("/settings", name="ingest.settings.update")
async def change_settings(
    body: SettingsUpdate, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> SettingsRead:
    """What a changed row does (reject or amend) and when a job gives up (administrators)."""
    return await IngestService(session, container).change_settings(principal, body)
