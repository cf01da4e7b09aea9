"""A credential document's page, the reviewers' queue, decisions, and the document preview.

The preview is the decrypted file streamed through the service (checked
against its SHA-256, audited as a read). Its response carries its own
Content-Security-Policy: nothing may run or load inside it, and only portal
pages of this site may frame it. The document page, which frames it, widens
the portal policy by `frame-src 'self'` and nothing else.
"""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.bootstrap import Container
from clinvault.credentials import policies
from clinvault.credentials.review import ReviewService
from clinvault.credentials.review_work import ReviewWork
from clinvault.credentials.schemas import DecisionRequest, DocumentStatus
from clinvault.credentials.service import CredentialService
from clinvault.deps import ContainerDep, SessionDep
from clinvault.errors import (
    CredentialAlreadyDecided,
    DecisionInvalid,
    PermissionDenied,
)
from clinvault.errors.credentials import ReviewAssigneeInvalid
from clinvault.identity.principal import Principal
from clinvault.middleware import PORTAL_CSP
from clinvault.web.pages.common import VerifiedForm, discard_changes, portal_router, see_other
from clinvault.web.pages.credentials_view import (
    REASON_LABELS,
    STATUS_LABELS,
    category_labels,
    template_helpers,
)
from clinvault.web.render import render
from clinvault.web.session import PortalPrincipal

router = portal_router()

PAGE_SIZE = 25
MAX_NOTE = 2000
PREVIEW_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png"})
DOCUMENT_PAGE_CSP = PORTAL_CSP + "; frame-src 'self'"
PREVIEW_CSP = "default-src 'none'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'"

NOTICES = {
    "verified": "The document is verified. The practitioner is told.",
    "rejected": "The document is rejected. The practitioner is told, with your reason.",
    "started": "The review is started and assigned to you.",
    "assigned": "The review is assigned.",
}


@router.get("/credentials/review", name="portal.credentials.review_queue")
async def review_queue(
    request: Request,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
    status: str = "",
    category: Annotated[str, Query(max_length=64)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    chosen_status = DocumentStatus(status) if status in STATUS_LABELS else None
    offset = (page - 1) * PAGE_SIZE
    result = await ReviewWork(session, container).queue(
        principal,
        status=chosen_status,
        category=category or None,
        limit=PAGE_SIZE,
        offset=offset,
    )
    filters = {"status": chosen_status.value if chosen_status else "", "category": category}

    def page_link(number: int) -> str:
        query = {k: v for k, v in {**filters, "page": str(number)}.items() if v}
        return "/credentials/review?" + urlencode(query)

    return render(
        request,
        "credentials_queue.html",
        {
            "result": result,
            "filters": filters,
            "statuses": STATUS_LABELS,
            "categories": await CredentialService(session, container).categories(principal),
            "previous_link": page_link(page - 1) if page > 1 else None,
            "next_link": page_link(page + 1) if offset + PAGE_SIZE < result.total else None,
            "sla_days": container.settings.credentials.review_sla_business_days,
            **template_helpers(),
        },
        principal=principal,
    )


EXPIRING_CHOICES = (30, 60, 90, 180, 365)


@router.get("/credentials/expiring", name="portal.credentials.expiring")
async def expiring(
    request: Request,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
    days: Annotated[int, Query(ge=0, le=730)] = 60,
    category: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """Verified documents of the organization that expire within `days` days."""
    found = await ReviewWork(session, container).expiring(
        principal, within_days=days, category=category or None
    )
    categories = await CredentialService(session, container).categories(principal)
    return render(
        request,
        "credentials_expiring.html",
        {
            "found": found,
            "filters": {"days": days, "category": category},
            "day_choices": sorted({*EXPIRING_CHOICES, days}),
            "categories": categories,
            "labels": category_labels(categories),
            **template_helpers(),
        },
        principal=principal,
    )


async def _document_page(
    request: Request,
    session: AsyncSession,
    container: Container,
    principal: Principal,
    document_id: uuid.UUID,
    *,
    error: str | None = None,
    notice: str | None = None,
    chosen: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    service = CredentialService(session, container)
    document = await service.document(principal, document_id, start_review=False)
    own = document.practitioner_id == principal.user_id
    reviewer = policies.is_reviewer(principal)
    work = (
        await ReviewWork(session, container).document(principal, document_id) if reviewer else None
    )
    return render(
        request,
        "credentials_document.html",
        {
            "document": document,
            "labels": category_labels(await service.categories(principal)),
            "own": own,
            "reviewer": reviewer,
            "work": work,
            "may_decide": reviewer and not own,
            "decidable": document.status in (DocumentStatus.SUBMITTED, DocumentStatus.IN_REVIEW)
            and document.is_current,
            "previewable": document.content_type in PREVIEW_TYPES,
            "is_pdf": document.content_type == "application/pdf",
            "reasons": REASON_LABELS,
            "chosen": chosen or {},
            "error": error,
            "notice": notice,
            **template_helpers(),
        },
        principal=principal,
        status_code=status_code,
        headers={"Content-Security-Policy": DOCUMENT_PAGE_CSP},
    )


@router.get("/credentials/documents/{document_id}", name="portal.credentials.document")
async def document_page(
    request: Request,
    document_id: uuid.UUID,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
    notice: str = "",
) -> Response:
    return await _document_page(
        request, session, container, principal, document_id, notice=NOTICES.get(notice)
    )


@router.post("/credentials/documents/{document_id}/decision", name="portal.credentials.decide")
async def decide(
    request: Request,
    document_id: uuid.UUID,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    chosen = {
        "decision": form.get("decision"),
        "reason_code": form.get("reason_code"),
        "note": form.get("note")[:MAX_NOTE],
    }
    try:
        body = DecisionRequest.model_validate(
            {
                "decision": chosen["decision"],
                "reason_code": chosen["reason_code"] or None,
                "note": chosen["note"].strip() or None,
            }
        )
    except ValidationError:
        return await _document_page(
            request, session, container, principal, document_id,
            error="Choose Verify or Reject; a rejection needs a reason from the list.",
            chosen=chosen, status_code=422,
        )  # fmt: skip
    try:
        await ReviewService(session, container).decide(principal, document_id, body)
    except (DecisionInvalid, CredentialAlreadyDecided, PermissionDenied) as error:
        await discard_changes(session)
        return await _document_page(
            request, session, container, principal, document_id,
            error=error.detail, chosen=chosen, status_code=error.status,
        )  # fmt: skip
    return see_other(f"/credentials/documents/{document_id}?notice={body.decision}")


@router.post("/credentials/documents/{document_id}/review", name="portal.credentials.start_review")
async def start_review(
    request: Request,
    document_id: uuid.UUID,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    """Start the review (assigned to oneself) or assign it to another reviewer."""
    chosen = form.get("assignee").strip()
    try:
        assignee = uuid.UUID(chosen) if chosen else None
    except ValueError:
        assignee = uuid.UUID(int=0)
    try:
        await ReviewWork(session, container).start_review(principal, document_id, assignee)
    except (ReviewAssigneeInvalid, CredentialAlreadyDecided, PermissionDenied) as error:
        await discard_changes(session)
        return await _document_page(
            request, session, container, principal, document_id,
            error=error.detail, status_code=error.status,
        )  # fmt: skip
    notice = "started" if assignee in (None, principal.user_id) else "assigned"
    return see_other(f"/credentials/documents/{document_id}?notice={notice}")


@router.get("/credentials/documents/{document_id}/content", name="portal.credentials.content")
async def document_content(
    document_id: uuid.UUID,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
    download: bool = False,
) -> StreamingResponse:
    content = await CredentialService(session, container).content(
        principal, document_id, start_review=False
    )
    inline = not download and content.content_type in PREVIEW_TYPES
    ascii_name = content.filename.encode("ascii", "replace").decode().replace('"', "_")
    disposition = (
        f'{"inline" if inline else "attachment"}; filename="{ascii_name}"; '
        f"filename*=UTF-8''{quote(content.filename)}"
    )
    return StreamingResponse(
        content.chunks,
        media_type=content.content_type,
        headers={
            "Content-Disposition": disposition,
            "Content-Length": str(content.size),
            "Content-Security-Policy": PREVIEW_CSP,
            "X-Frame-Options": "SAMEORIGIN",
            "Cross-Origin-Resource-Policy": "same-origin",
        },
    )
