"""Lists of care plans: the organization's and accepted shares (clinicians), shares to
accept, and "My care plans" (a patient's plans shared with them, read-only)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.bootstrap import Container
from clinvault.careplans.preferences import MailPreferenceService
from clinvault.careplans.schemas import CarePlanSummary, MailDelivery, MailPreference
from clinvault.careplans.service import CarePlanService
from clinvault.careplans.shares import ShareService
from clinvault.careplans.states import PlanStatus
from clinvault.deps import ContainerDep, SessionDep
from clinvault.errors import AppError, PatientNotFound, PermissionDenied
from clinvault.identity.principal import Principal, Role
from clinvault.records.patients.service import PatientService
from clinvault.web.pages.careplans.detail import last_day
from clinvault.web.pages.careplans.forms import PLAN_STATUSES, STATUS_LABELS
from clinvault.web.pages.common import VerifiedForm, discard_changes, portal_router, see_other
from clinvault.web.render import render
from clinvault.web.session import PortalPrincipal

router = portal_router()

PAGE_SIZE = 50
MAX_PAGE = 2_000
CLINICAL = (Role.ORG_ADMIN, Role.DOCTOR, Role.NURSE)
NOTICES = {
    "accepted": "Share accepted: the plan is now in your list.",
    "emails": "Saved: care-plan emails will reach you as you chose.",
}
DELIVERY_LABELS = {
    MailDelivery.IMMEDIATE.value: "At once, one email per change",
    MailDelivery.DAILY_DIGEST.value: "Once a day, one email listing the day's changes",
}


async def patient_names(
    session: AsyncSession,
    container: Container,
    principal: Principal,
    items: list[CarePlanSummary],
) -> dict[uuid.UUID, str]:
    """Names of the organization's own patients; a shared plan's patient stays unnamed."""
    people = PatientService(session, container)
    names: dict[uuid.UUID, str] = {}
    for item in items:
        if item.patient_id not in names:
            found = await people.lookup(principal, item.patient_id)
            names[item.patient_id] = f"{found.last_name}, {found.first_name}" if found else ""
    return names


async def list_page(
    request: Request,
    session: AsyncSession,
    container: Container,
    principal: Principal,
    *,
    status: str = "",
    page: int = 1,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    if not principal.has(*CLINICAL):
        raise PermissionDenied("Only clinicians list the organization's care plans.")
    chosen = status if status in PLAN_STATUSES else ""
    page = min(max(page, 1), MAX_PAGE)
    result = await CarePlanService(session, container).search(
        principal,
        status=PlanStatus(chosen) if chosen else None,
        limit=PAGE_SIZE + 1,
        offset=(page - 1) * PAGE_SIZE,
    )
    items = result.items[:PAGE_SIZE]
    incoming = await ShareService(session, container).incoming(principal)
    preference = await MailPreferenceService(session).get(principal)
    context.describe_resource("care_plan")
    data: dict[str, Any] = {
        "items": items,
        "names": await patient_names(session, container, principal, items),
        "own_org": principal.organization_id,
        "pending": [share for share in incoming if share.state == "pending"],
        "status": chosen,
        "statuses": PLAN_STATUSES,
        "status_labels": STATUS_LABELS,
        "last_day": last_day,
        "page": page,
        "has_next": len(result.items) > PAGE_SIZE,
        "params": {"status": chosen},
        "error": error,
        "notice": notice,
        "delivery": preference.email.value,
        "delivery_labels": DELIVERY_LABELS,
    }
    return render(request, "cp_list.html", data, principal=principal, status_code=status_code)


@router.get("/care-plans", name="portal.cp.list")
async def care_plans(
    request: Request,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
    status: str = "",
    page: int = 1,
    notice: str = "",
) -> Response:
    return await list_page(
        request, session, container, principal, status=status, page=page,
        notice=NOTICES.get(notice),
    )  # fmt: skip


@router.post("/care-plans/shares/{share_id:uuid}/accept", name="portal.cp.share.accept")
async def accept_share(
    request: Request,
    share_id: uuid.UUID,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    try:
        share = await ShareService(session, container).accept(principal, share_id)
    except AppError as problem:
        if problem.status == 404:
            raise
        await discard_changes(session)
        return await list_page(
            request, session, container, principal, error=problem.detail,
            status_code=problem.status,
        )  # fmt: skip
    return see_other(f"/care-plans/{share.plan_id}?notice=accepted")


@router.post("/care-plans/emails", name="portal.cp.emails")
async def save_email_choice(
    request: Request,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    try:
        delivery = MailDelivery(form.get("delivery"))
    except ValueError:
        return await list_page(
            request, session, container, principal, status_code=422,
            error="Choose how care-plan emails reach you: at once or once a day.",
        )  # fmt: skip
    await MailPreferenceService(session).set(principal, MailPreference(email=delivery))
    return see_other("/care-plans?notice=emails")


@router.get("/my-care-plans", name="portal.cp.mine")
async def my_care_plans(
    request: Request, principal: PortalPrincipal, session: SessionDep, container: ContainerDep
) -> Response:
    if not principal.has(Role.PATIENT):
        raise PermissionDenied("“My care plans” lists a patient's own care plans.")
    try:
        result = await CarePlanService(session, container).search(principal, limit=PAGE_SIZE)
        items = result.items
    except PatientNotFound:  # an account not yet linked to a chart has no plans
        items = []
    context.describe_resource("care_plan")
    return render(
        request,
        "cp_mine.html",
        {"items": items, "status_labels": STATUS_LABELS},
        principal=principal,
    )
