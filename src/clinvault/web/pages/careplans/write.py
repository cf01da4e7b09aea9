"""Writing care plans: the "new plan" form, and the edit form that carries its version.

The edit form sends the version it was based on; when someone else saved a
newer one meanwhile, the service refuses it (412) and the form comes back
with everything typed kept, who changed the plan and when, and a link to the
diff. Saving again then bases the change on the newer version.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.bootstrap import Container
from clinvault.careplans import policies
from clinvault.careplans.etags import etag
from clinvault.careplans.schemas import MAX_BODY, CarePlanCreate, CarePlanUpdate
from clinvault.careplans.service import CarePlanService
from clinvault.deps import ContainerDep, SessionDep
from clinvault.errors import AppError, PatientNotFound, PermissionDenied
from clinvault.errors.careplans import CarePlanChanged
from clinvault.identity.principal import Principal, Role
from clinvault.records.pagination import MAX_PAGE_SIZE, PageRequest
from clinvault.records.patients.service import PatientService
from clinvault.web.pages.careplans import forms
from clinvault.web.pages.careplans.detail import level_of
from clinvault.web.pages.common import VerifiedForm, discard_changes, portal_router, see_other
from clinvault.web.render import render
from clinvault.web.session import PortalPrincipal

router = portal_router()

WRITERS = (Role.ORG_ADMIN, Role.DOCTOR, Role.NURSE)


def require_writer(principal: Principal) -> None:
    if not principal.has(*WRITERS):
        raise PermissionDenied("Only doctors, nurses and administrators write care plans.")


async def _patients(
    session: AsyncSession, container: Container, principal: Principal, chosen: str
) -> list[tuple[str, str]]:
    """The first patients of the organization, and the one chosen (`?patient=` from a chart)."""
    people = PatientService(session, container)
    page = await people.list_patients(principal, PageRequest(page=1, page_size=MAX_PAGE_SIZE))
    found = [(str(p.id), f"{p.last_name}, {p.first_name} ({p.date_of_birth})") for p in page.items]
    try:
        wanted = uuid.UUID(chosen) if chosen else None
    except ValueError:
        wanted = None
    if wanted is not None and all(value != str(wanted) for value, _ in found):
        extra = await people.lookup(principal, wanted)
        if extra is not None:
            found.insert(0, (str(extra.id), f"{extra.last_name}, {extra.first_name}"))
    return found


async def _form_page(
    request: Request,
    session: AsyncSession,
    container: Container,
    principal: Principal,
    values: dict[str, Any],
    *,
    plan_id: uuid.UUID | None = None,
    version: int | None = None,
    errors: dict[str, str] | None = None,
    conflict: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    data: dict[str, Any] = {
        "values": values,
        "errors": errors or {},
        "plan_id": plan_id,
        "version": version,
        "conflict": conflict,
        "patients": []
        if plan_id
        else await _patients(session, container, principal, str(values.get("patient_id", ""))),
        "statuses": forms.PLAN_STATUSES,
        "status_labels": forms.STATUS_LABELS,
        "activity_statuses": forms.ACTIVITY_STATUSES,
        "activity_labels": forms.ACTIVITY_LABELS,
        "max_body": MAX_BODY,
    }
    return render(request, "cp_form.html", data, principal=principal, status_code=status_code)


@router.get("/care-plans/new", name="portal.cp.new")
async def new_plan(
    request: Request,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
    patient: str = "",
) -> Response:
    require_writer(principal)
    values = forms.blank_values(forms.clip(patient, 36))
    return await _form_page(request, session, container, principal, values)


@router.post("/care-plans/new", name="portal.cp.create")
async def create_plan(
    request: Request,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    require_writer(principal)
    adding = form.get("intent") == "rows"
    values = forms.read_form(form, extra_rows=3 if adding else 0)
    page = (request, session, container, principal, values)
    if adding:
        return await _form_page(*page)
    try:
        data = CarePlanCreate.model_validate(forms.body(values))
    except ValidationError as problem:
        return await _form_page(*page, errors=forms.validation_errors(problem), status_code=400)
    try:
        created = await CarePlanService(session, container).create(principal, data)
    except PermissionDenied:
        raise
    except (PatientNotFound, AppError) as problem:
        await discard_changes(session)
        errors = forms.service_errors(problem)
        if isinstance(problem, PatientNotFound):
            errors = {"patient_id": forms.MESSAGES["patient_id"]}
        return await _form_page(*page, errors=errors, status_code=problem.status)
    return see_other(f"/care-plans/{created.id}?notice=created")


@router.get("/care-plans/{plan_id:uuid}/edit", name="portal.cp.edit")
async def edit_plan(
    request: Request,
    plan_id: uuid.UUID,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    plan = await CarePlanService(session, container).get(principal, plan_id)
    level = await level_of(session, container, principal, plan)
    if policies.acts_as_patient(principal) or level != "edit":
        raise PermissionDenied(f"Your share lets you {level} this plan, not edit it.")
    values = forms.values_of(plan)
    return await _form_page(
        request, session, container, principal, values, plan_id=plan.id, version=plan.version
    )


async def _conflict(
    service: CarePlanService, principal: Principal, plan_id: uuid.UUID, based_on: int
) -> dict[str, Any]:
    """Who saved the newer version and when, for the refused form."""
    history = await service.versions(principal, plan_id)
    latest = history[-1]
    return {
        "author": latest.author_name or "Someone",
        "at": latest.created_at,
        "current": latest.number,
        "based_on": based_on,
    }


@router.post("/care-plans/{plan_id:uuid}/edit", name="portal.cp.update")
async def update_plan(
    request: Request,
    plan_id: uuid.UUID,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    adding = form.get("intent") == "rows"
    values = forms.read_form(form, extra_rows=3 if adding else 0)
    based_on_text = form.get("version")
    based_on = int(based_on_text) if based_on_text.isdigit() and len(based_on_text) < 10 else 0
    page = (request, session, container, principal, values)
    if adding:
        return await _form_page(*page, plan_id=plan_id, version=based_on)
    try:
        data = CarePlanUpdate.model_validate(forms.body(values))
    except ValidationError as problem:
        errors = forms.validation_errors(problem)
        return await _form_page(
            *page, plan_id=plan_id, version=based_on, errors=errors, status_code=400
        )
    service = CarePlanService(session, container)
    try:
        if_match = etag(plan_id, based_on) if based_on else None
        await service.update(principal, plan_id, data, if_match)
    except CarePlanChanged as problem:
        await discard_changes(session)
        conflict = await _conflict(service, principal, plan_id, based_on)
        context.describe_resource("care_plan", plan_id)
        return await _form_page(
            *page, plan_id=plan_id, version=conflict["current"], conflict=conflict,
            status_code=problem.status,
        )  # fmt: skip
    except AppError as problem:
        if problem.status in (403, 404):
            raise
        await discard_changes(session)
        return await _form_page(
            *page, plan_id=plan_id, version=based_on, errors=forms.service_errors(problem),
            status_code=problem.status,
        )  # fmt: skip
    return see_other(f"/care-plans/{plan_id}?notice=saved")
