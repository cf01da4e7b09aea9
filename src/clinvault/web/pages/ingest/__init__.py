"""Import records in the portal: the upload form, the jobs list, a job's live progress.

The form posts the CSV file to the portal itself: the page creates the upload
(`IngestService.create_upload`) and streams the spooled file into it
(`receive`), which is what the signed PUT does for API clients; the browser
never needs the signed URL, so the page works without JavaScript. With
JavaScript, upload.js shows the upload's progress and job_progress.js
refreshes the job's counts in place; without it the job page reloads itself
while the job runs.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request, Response
from fastapi.responses import StreamingResponse
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.bootstrap import Container
from clinvault.deps import ContainerDep, SessionDep
from clinvault.errors.ingest import IngestFileRejected, IngestFileTooLarge, IngestJobFinished
from clinvault.identity.principal import Principal
from clinvault.ingest import policies
from clinvault.ingest.schemas import FINISHED_STATES, JobRead, UploadCreate
from clinvault.ingest.service import IMPORT_DENIED, IngestService
from clinvault.records.pagination import PageRequest
from clinvault.records.policies import require
from clinvault.web.pages.common import VerifiedForm, discard_changes, portal_router, see_other
from clinvault.web.pages.ingest.upload_form import (
    IMPORT_PATH,
    ImportForm,
    body_limit_overrides,
    receive_import_form,
    size_text,
)
from clinvault.web.render import render
from clinvault.web.session import PortalPrincipal

__all__ = ["body_limit_overrides", "router"]

router = portal_router()

PAGE_SIZE = 20
MAX_PAGE = 10_000
REFRESH_SECONDS = 2
STATE_LABELS = {
    "uploaded": "Waiting to start",
    "validating": "Checking the file",
    "processing": "Importing",
    "completed": "Completed",
    "completed_with_errors": "Completed with errors",
    "failed": "Failed",
    "cancelled": "Cancelled",
}
NOTICES = {
    "started": "File received: the import is running. This page follows its progress.",
    "cancel": "Cancel requested: the job stops after its current batch; what it wrote stays.",
}


def _values(form: ImportForm | None = None) -> dict[str, str]:
    if form is None:
        return {"dry_run": "", "timezone": "", "filename": ""}
    return {
        "dry_run": "yes" if form.value("dry_run") == "yes" else "",
        "timezone": form.value("timezone")[:64],
        "filename": form.filename,
    }


async def _upload_page(
    request: Request,
    session: AsyncSession,
    container: Container,
    principal: Principal,
    *,
    page: int = 1,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    service = IngestService(session, container)
    jobs = await service.list_jobs(principal, PageRequest(page=page, page_size=PAGE_SIZE))
    data: dict[str, Any] = {
        "jobs": jobs,
        "pages": max(1, -(-jobs.total // PAGE_SIZE)),
        "values": values or _values(),
        "errors": errors or {},
        "can_import": policies.can_import(principal),
        "max_size": size_text(container.settings.ingest.max_file_bytes),
        "state_labels": STATE_LABELS,
    }
    return render(request, "import_upload.html", data, principal=principal, status_code=status_code)


@router.get(IMPORT_PATH, name="portal.ingest.upload")
async def upload_page(
    request: Request,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
    page: int = 1,
) -> Response:
    return await _upload_page(
        request, session, container, principal, page=min(max(page, 1), MAX_PAGE)
    )


@router.post(IMPORT_PATH, name="portal.ingest.submit")
async def submit(
    request: Request, principal: PortalPrincipal, session: SessionDep, container: ContainerDep
) -> Response:
    require(policies.can_import(principal), IMPORT_DENIED)
    form = await receive_import_form(request, container.settings)
    try:
        return await _submit(request, session, container, principal, form)
    finally:
        form.cleanup()


async def _submit(
    request: Request,
    session: AsyncSession,
    container: Container,
    principal: Principal,
    form: ImportForm,
) -> Response:
    values = _values(form)
    refused = (request, session, container, principal)
    if form.spooled is None:
        errors = {"file": "Choose the CSV file to import."}
        return await _upload_page(*refused, values=values, errors=errors, status_code=400)
    try:
        data = UploadCreate(
            filename=form.filename or "upload.csv",
            dry_run=values["dry_run"] == "yes",
            timezone=values["timezone"] or None,
        )
    except ValidationError as problem:
        errors = {}
        for item in problem.errors():
            name = "file" if item["loc"] and item["loc"][0] == "filename" else "timezone"
            errors.setdefault(
                name,
                "Rename the file: at most 255 characters, no control characters."
                if name == "file"
                else "Enter an IANA time zone such as America/Los_Angeles or UTC, or leave it "
                "empty.",
            )
        return await _upload_page(*refused, values=values, errors=errors, status_code=400)
    service = IngestService(session, container)
    try:
        ticket = await service.create_upload(principal, data)
        await service.claim(ticket.upload_id, principal.organization_id)
        job = await service.receive(
            ticket.upload_id, principal.organization_id, form.spooled.chunks()
        )
    except (IngestFileRejected, IngestFileTooLarge) as problem:
        await discard_changes(session)
        return await _upload_page(
            *refused, values=values, errors={"file": problem.detail},
            status_code=problem.status,
        )  # fmt: skip
    return see_other(f"{IMPORT_PATH}/jobs/{job.id}?notice=started")


def _job_values(job: JobRead, principal: Principal) -> dict[str, Any]:
    running = job.state not in FINISHED_STATES
    return {
        "job": job,
        "running": running,
        "percent": int(job.progress * 100),
        "state_label": STATE_LABELS.get(job.state, job.state),
        "can_import": policies.can_import(principal),
        "refresh_seconds": REFRESH_SECONDS,
    }


@router.get(IMPORT_PATH + "/jobs/{job_id:uuid}", name="portal.ingest.job")
async def job_page(
    request: Request,
    job_id: uuid.UUID,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
    notice: str = "",
) -> Response:
    job = await IngestService(session, container).get_job(principal, job_id)
    data = {**_job_values(job, principal), "notice": NOTICES.get(notice), "error": None}
    return render(request, "import_job.html", data, principal=principal)


@router.post(IMPORT_PATH + "/jobs/{job_id:uuid}/cancel", name="portal.ingest.cancel")
async def cancel(
    request: Request,
    job_id: uuid.UUID,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    service = IngestService(session, container)
    try:
        await service.cancel(principal, job_id)
    except IngestJobFinished as problem:
        await discard_changes(session)
        job = await service.get_job(principal, job_id)
        data = {**_job_values(job, principal), "notice": None, "error": problem.detail}
        return render(request, "import_job.html", data, principal=principal, status_code=409)
    return see_other(f"{IMPORT_PATH}/jobs/{job_id}?notice=cancel")


@router.get(IMPORT_PATH + "/jobs/{job_id:uuid}/error-report", name="portal.ingest.report")
async def error_report(
    job_id: uuid.UUID, principal: PortalPrincipal, session: SessionDep, container: ContainerDep
) -> Response:
    body = await IngestService(session, container).error_report(principal, job_id)
    context.describe_resource("ingest_job", job_id)
    return StreamingResponse(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="import-{job_id}-errors.csv"'},
    )
