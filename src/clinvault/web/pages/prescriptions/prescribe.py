"""Prescribing from a patient's chart: the form, the pharmacy search in it, the allergy warning.

Without JavaScript the pharmacy search is a second submit button of the same
form: it re-renders the form with the typed values and the pharmacies found,
so nothing is lost. Saving creates a draft; the detail page signs it.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.bootstrap import Container
from clinvault.deps import ContainerDep, SessionDep
from clinvault.errors import AppError, PatientNotFound, PermissionDenied
from clinvault.errors.prescriptions import PharmacySearchInvalid
from clinvault.identity.principal import Principal, Role
from clinvault.prescriptions.schemas import (
    SCHEDULES,
    UNITS,
    PharmacyRead,
    PrescriptionCreate,
)
from clinvault.prescriptions.service import PrescriptionService
from clinvault.records.patients.schemas import PatientRead
from clinvault.records.patients.service import PatientService
from clinvault.web.pages.appointments import people_names
from clinvault.web.pages.common import VerifiedForm, discard_changes, portal_router, see_other
from clinvault.web.pages.prescriptions import forms
from clinvault.web.render import render
from clinvault.web.session import PortalPrincipal

router = portal_router()

SCHEDULE_LABELS = {
    "none": "Not controlled",
    "II": "Schedule II",
    "III": "Schedule III",
    "IV": "Schedule IV",
    "V": "Schedule V",
}


def require_prescriber(principal: Principal) -> None:
    if not principal.has(Role.DOCTOR, Role.NURSE):
        raise PermissionDenied("Only doctors and nurses write prescriptions.")


async def pharmacy_results(
    service: PrescriptionService, principal: Principal, query: str
) -> tuple[list[PharmacyRead], str | None]:
    """Pharmacies matching `query`, or the message saying why the query was refused."""
    if not query:
        return [], None
    try:
        return await service.search_pharmacies(principal, query), None
    except PharmacySearchInvalid as error:
        return [], error.detail


async def _form_page(
    request: Request,
    session: AsyncSession,
    container: Container,
    principal: Principal,
    patient: PatientRead,
    values: dict[str, str],
    *,
    errors: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    service = PrescriptionService(session, container)
    pharmacies, search_error = await pharmacy_results(service, principal, values["pharmacy_q"])
    allergies = forms.allergy_terms(patient.allergies)
    matched = forms.matching_allergies(values["medication_name"], allergies)
    prescribers = {}
    if not principal.has(Role.DOCTOR):
        prescribers = await people_names(session, container, principal)
    context.describe_resource("patient", patient.id)
    data: dict[str, Any] = {
        "patient": patient,
        "values": values,
        "errors": errors or {},
        "error": error,
        "pharmacies": pharmacies,
        "search_error": search_error,
        "allergies": allergies,
        "allergy_text": patient.allergies,
        "matched": matched,
        "units": UNITS,
        "schedules": SCHEDULES,
        "schedule_labels": SCHEDULE_LABELS,
        "prescribers": sorted(prescribers.items(), key=lambda item: item[1].casefold()),
        "is_doctor": principal.has(Role.DOCTOR),
    }
    return render(request, "rx_new.html", data, principal=principal, status_code=status_code)


def blank_values() -> dict[str, str]:
    values = dict.fromkeys(forms.FIELDS, "")
    values.update(forms.DEFAULTS)
    return values


@router.get("/patients/{patient_id:uuid}/prescriptions/new", name="portal.rx.new")
async def new_prescription(
    request: Request,
    patient_id: uuid.UUID,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    patient = await PatientService(session, container).get(principal, patient_id)
    require_prescriber(principal)
    return await _form_page(request, session, container, principal, patient, blank_values())


@router.post("/patients/{patient_id:uuid}/prescriptions/new", name="portal.rx.create")
async def create_prescription(
    request: Request,
    patient_id: uuid.UUID,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    patient = await PatientService(session, container).get(principal, patient_id)
    require_prescriber(principal)
    values = {name: forms.clip(form.get(name)) for name in forms.FIELDS}
    if not values["substitution_allowed"]:
        values["substitution_allowed"] = "no"
    page = (request, session, container, principal, patient, values)
    if form.get("intent") == "search":
        return await _form_page(*page)
    allergies = forms.allergy_terms(patient.allergies)
    matched = forms.matching_allergies(values["medication_name"], allergies)
    errors: dict[str, str] = {}
    try:
        data = PrescriptionCreate.model_validate(forms.body(values, patient.id))
    except ValidationError as problem:
        errors = forms.validation_errors(problem, values)
        data = None
    if matched and values["allergy_acknowledged"] != "yes":
        errors["allergy_acknowledged"] = (
            f"{', '.join(matched)} is recorded as an allergy of this patient: check the "
            "medication, then tick the box to confirm you prescribe it anyway."
        )
    if errors or data is None:
        return await _form_page(*page, errors=errors, status_code=400)
    try:
        created = await PrescriptionService(session, container).create(principal, data)
    except (PatientNotFound, PermissionDenied):
        raise
    except AppError as problem:
        if problem.status == 404:
            raise
        await discard_changes(session)
        errors = forms.service_errors(problem)
        form_error = errors.pop("form", None)
        return await _form_page(
            *page,
            errors=errors,
            error=form_error or (None if errors else problem.detail),
            status_code=problem.status,
        )
    return see_other(f"/prescriptions/{created.id}?notice=drafted")
