"""Practitioner pages of credential intake: upload, confirmation, "My credentials", replace."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Path, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.bootstrap import Container
from clinvault.config import Settings
from clinvault.credentials.schemas import CategoryRead, DocumentStatus, ProfileUpdate
from clinvault.credentials.service import CredentialService
from clinvault.credentials.submission_service import SubmissionService
from clinvault.deps import ContainerDep, SessionDep
from clinvault.errors import (
    BodyTooLarge,
    CredentialFilesRejected,
    CredentialMetadataInvalid,
    CredentialNotReplaceable,
    NpiInvalid,
    PractitionerProfileRequired,
)
from clinvault.errors.credentials import NpiTaken
from clinvault.identity.principal import Principal
from clinvault.web.pages import credentials_upload as upload_form
from clinvault.web.pages.common import VerifiedForm, discard_changes, portal_router, see_other
from clinvault.web.pages.credentials_form import FormRow, body_limit, receive_form
from clinvault.web.pages.credentials_view import (
    category_labels,
    field_message,
    template_helpers,
)
from clinvault.web.render import render
from clinvault.web.session import PortalPrincipal

router = portal_router()

UPLOAD_PATH = "/credentials/upload"
REPLACE_PREFIX = "/credentials/replace/"

NOTICES = {
    "submitted": "Your documents were received. Keep the reference below for your records.",
    "replaced": "Your replacement was received and will be reviewed again.",
    "profile": "Your NPI is saved: you can now upload your documents.",
}


def body_limit_overrides(settings: Settings) -> list[tuple[str, int]]:
    """Body limits of the portal's upload forms, for RequestPipeline."""
    return [(UPLOAD_PATH, body_limit(settings)), (REPLACE_PREFIX, body_limit(settings))]


def _max_rows(container: Container) -> int:
    return container.settings.credentials.max_files


def _blank_rows(count: int) -> list[FormRow]:
    return [FormRow(position) for position in range(count)]


async def _categories(
    session: AsyncSession, container: Container, principal: Principal
) -> list[CategoryRead]:
    return await CredentialService(session, container).categories(principal)


def _profile_page(
    request: Request,
    principal: Principal,
    *,
    npi: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "credentials_profile.html",
        {"npi": npi, "error": error},
        principal=principal,
        status_code=status_code,
    )


def _apply_problems(rows: list[FormRow], error: CredentialFilesRejected) -> None:
    """Put each file's problems next to the row it came from."""
    for item in error.errors or []:
        index = item.get("file")
        if isinstance(index, int) and 0 <= index < len(rows):
            rows[index].errors.extend(
                field_message(problem.get("code", ""), problem.get("detail", ""))
                for problem in item.get("problems", [])
            )


def _missing_files(rows: list[FormRow]) -> bool:
    missing = False
    for row in rows:
        if not row.has_file:
            row.errors.append("Choose the file of this document.")
            missing = True
    return missing


@router.get(UPLOAD_PATH, name="portal.credentials.upload")
async def upload_page(
    request: Request,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
    rows: Annotated[int, Query(ge=1, le=200)] = 1,
    notice: str = "",
) -> Response:
    try:
        await SubmissionService(session, container).intake.require_practitioner(principal)
    except PractitionerProfileRequired:
        return _profile_page(request, principal)
    count = min(rows, _max_rows(container))
    return await upload_form.upload_page(
        request, session, container, principal, _blank_rows(count), notice=NOTICES.get(notice)
    )


@router.post(UPLOAD_PATH, name="portal.credentials.upload.submit")
async def upload_submit(
    request: Request, principal: PortalPrincipal, session: SessionDep, container: ContainerDep
) -> Response:
    try:
        form = await receive_form(request, container.settings, max_rows=_max_rows(container))
    except BodyTooLarge:
        # The body was not read (or not all of it): the form comes back empty, with the limit.
        return await upload_form.upload_page(
            request, session, container, principal, _blank_rows(1),
            error=upload_form.too_large_message(container), status_code=413,
        )  # fmt: skip
    try:
        return await upload_form.submit_form(request, session, container, principal, form)
    except PractitionerProfileRequired:
        await discard_changes(session)
        return _profile_page(request, principal, status_code=422)
    finally:
        form.cleanup()


@router.post("/credentials/profile", name="portal.credentials.profile")
async def profile_submit(
    request: Request,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    npi = form.get("npi").strip()[:32]
    specialty = form.get("specialty").strip()[:120]
    if not npi.isdigit() or len(npi) != 10:
        return _profile_page(
            request, principal, npi=npi, error="Enter your NPI: 10 digits.", status_code=422
        )
    try:
        await CredentialService(session, container).put_profile(
            principal, ProfileUpdate(npi=npi, specialty=specialty)
        )
    except (NpiInvalid, NpiTaken) as error:
        await discard_changes(session)
        return _profile_page(
            request, principal, npi=npi, error=error.detail, status_code=error.status
        )
    return see_other(f"{UPLOAD_PATH}?notice=profile")


@router.get("/credentials/submissions/{reference}", name="portal.credentials.submission")
async def submission_page(
    request: Request,
    reference: Annotated[str, Path(max_length=32)],
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
    notice: str = "",
) -> Response:
    submission = await CredentialService(session, container).submission(principal, reference)
    return render(
        request,
        "credentials_submission.html",
        {
            "submission": submission,
            "notice": NOTICES.get(notice),
            "labels": category_labels(await _categories(session, container, principal)),
            **template_helpers(),
        },
        principal=principal,
    )


@router.get("/credentials", name="portal.credentials.mine")
async def mine_page(
    request: Request, principal: PortalPrincipal, session: SessionDep, container: ContainerDep
) -> Response:
    service = CredentialService(session, container)
    documents = await service.mine(principal)
    return render(
        request,
        "credentials_mine.html",
        {
            "documents": documents,
            "labels": category_labels(await service.categories(principal)),
            "rejected": DocumentStatus.REJECTED,
            **template_helpers(),
        },
        principal=principal,
    )


async def _replace_page(
    request: Request,
    session: AsyncSession,
    container: Container,
    principal: Principal,
    document_id: uuid.UUID,
    row: FormRow,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    service = CredentialService(session, container)
    document = await service.document(principal, document_id)
    if document.practitioner_id != principal.user_id:
        return see_other(f"/credentials/documents/{document_id}")
    row.values.setdefault("category", document.category)
    return render(
        request,
        "credentials_replace.html",
        {
            "document": document,
            "row": row,
            "error": error,
            "replaceable": document.status == DocumentStatus.REJECTED and document.is_current,
            "labels": category_labels(await service.categories(principal)),
            **template_helpers(),
        },
        principal=principal,
        status_code=status_code,
    )


@router.get(REPLACE_PREFIX + "{document_id}", name="portal.credentials.replace")
async def replace_page(
    request: Request,
    document_id: uuid.UUID,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    return await _replace_page(request, session, container, principal, document_id, FormRow(0))


@router.post(REPLACE_PREFIX + "{document_id}", name="portal.credentials.replace.submit")
async def replace_submit(
    request: Request,
    document_id: uuid.UUID,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    form = await receive_form(request, container.settings, max_rows=1)
    try:
        row = form.ordered()[0] if form.rows else FormRow(0)
        if _missing_files([row]):
            return await _replace_page(
                request, session, container, principal, document_id, row,
                error="Choose the new file.", status_code=422,
            )  # fmt: skip
        try:
            created = await SubmissionService(session, container).replace(
                principal, document_id, form.as_upload([row])
            )
        except CredentialFilesRejected as error:
            await discard_changes(session)
            _apply_problems([row], error)
            return await _replace_page(
                request, session, container, principal, document_id, row,
                error=error.detail, status_code=422,
            )  # fmt: skip
        except (CredentialMetadataInvalid, CredentialNotReplaceable) as error:
            await discard_changes(session)
            return await _replace_page(
                request, session, container, principal, document_id, row,
                error=error.detail, status_code=error.status,
            )  # fmt: skip
        return see_other(f"/credentials/submissions/{created.reference}?notice=replaced")
    finally:
        form.cleanup()
