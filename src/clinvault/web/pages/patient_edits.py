"""Changing a patient's details and linking the patient's own account, from the chart.

The form offers exactly the fields the API lets the role change
(`policies.editable_patient_fields`): administrators and clerks all of them,
doctors and nurses the clinical ones (allergies, emergency contact, blood
type); the others are shown, not editable. Only the fields that differ are
sent, through the same service as PUT /api/patients/{id}.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request, Response
from pydantic import ValidationError

from clinvault.deps import ContainerDep, SessionDep
from clinvault.errors import (
    PatientFieldsForbidden,
    PatientMrnTaken,
    PatientUserAlreadyLinked,
    RequestInvalid,
)
from clinvault.identity.principal import Principal
from clinvault.records import policies
from clinvault.records.patients.schemas import BLOOD_TYPES, GENDERS, PatientRead, PatientUpdate
from clinvault.records.patients.service import PatientService
from clinvault.records.phones import PhoneInvalid, to_e164
from clinvault.web.pages import form_errors as wording
from clinvault.web.pages.common import VerifiedForm, discard_changes, portal_router, see_other
from clinvault.web.pages.form_errors import plain_errors
from clinvault.web.pages.patients import MRN_IN_USE, PATIENT_FIELDS, app_field_errors, form_values
from clinvault.web.render import render
from clinvault.web.session import PortalPrincipal

router = portal_router()

REQUIRED = ("first_name", "last_name", "date_of_birth", "gender", "mrn")
UPDATE_DENIED = "Your role cannot change patient details."
LINK_DENIED = "Only administrators and clerks link patient accounts."


def _current(patient: PatientRead) -> dict[str, str]:
    values = {name: getattr(patient, name, None) for name in PATIENT_FIELDS if name != "ssn"}
    shown = {name: ("" if value is None else str(value)) for name, value in values.items()}
    shown["ssn"] = ""
    return shown


def _edit_page(
    request: Request,
    principal: Principal,
    patient: PatientRead,
    status_code: int = 200,
    **values: Any,
) -> Response:
    data: dict[str, Any] = {
        "patient": patient,
        "values": _current(patient),
        "editable": policies.editable_patient_fields(principal),
        "errors": {},
        "error": None,
        "genders": GENDERS,
        "blood_types": BLOOD_TYPES,
    }
    data.update(values)
    return render(request, "patients_edit.html", data, principal=principal, status_code=status_code)


async def _editable(
    service: PatientService, principal: Principal, patient_id: uuid.UUID
) -> PatientRead:
    patient = await service.get(principal, patient_id)
    policies.require(policies.can_update_patient(principal), UPDATE_DENIED)
    return patient


@router.get("/patients/{patient_id:uuid}/edit", name="portal.patient.edit")
async def edit_patient(
    request: Request,
    patient_id: uuid.UUID,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    patient = await _editable(PatientService(session, container), principal, patient_id)
    return _edit_page(request, principal, patient)


def _changes(
    patient: PatientRead, values: dict[str, str], editable: frozenset[str]
) -> dict[str, str | None]:
    """The editable fields whose text differs from what is shown now (an empty SSN box
    leaves the SSN as it is: it is never shown)."""
    current = _current(patient)
    changed: dict[str, str | None] = {}
    for name in PATIENT_FIELDS:
        if name not in editable or values[name] == current[name]:
            continue
        if name == "ssn" and not values[name]:
            continue
        changed[name] = values[name] or None
    return changed


@router.post("/patients/{patient_id:uuid}/edit", name="portal.patient.update")
async def update_patient(
    request: Request,
    patient_id: uuid.UUID,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    service = PatientService(session, container)
    patient = await _editable(service, principal, patient_id)
    editable = policies.editable_patient_fields(principal)
    sent = form_values(form, [name for name in PATIENT_FIELDS if name in editable])
    values = {**_current(patient), **sent}
    shown = {**values, "ssn": ""}
    changed = _changes(patient, values, editable)
    errors = wording.missing(
        {name: values[name] for name in REQUIRED if name in editable},
        tuple(name for name in REQUIRED if name in editable),
        wording.PATIENT,
    )
    data: PatientUpdate | None = None
    try:
        data = PatientUpdate.model_validate({k: v for k, v in changed.items() if k not in errors})
    except ValidationError as error:
        errors = {**plain_errors(error, values, wording.PATIENT), **errors}
    if "phone" not in errors and changed.get("phone"):
        try:
            to_e164(values["phone"], container.settings.records.default_phone_country_code)
        except PhoneInvalid:
            errors["phone"] = wording.PATIENT["phone"].invalid
    if errors or data is None:
        return _edit_page(request, principal, patient, 400, values=shown, errors=errors)
    if not changed:
        return see_other(f"/patients/{patient.id}")
    try:
        await service.update(principal, patient.id, data)
    except (PatientMrnTaken, PatientFieldsForbidden, RequestInvalid) as error:
        await discard_changes(session)
        found = app_field_errors(error)
        if isinstance(error, PatientMrnTaken):
            found = {"mrn": MRN_IN_USE}
        return _edit_page(
            request,
            principal,
            patient,
            error.status,
            values=shown,
            errors=found,
            error=None if found else error.detail,
        )
    return see_other(f"/patients/{patient.id}?notice=updated")


async def _linkable(
    service: PatientService, principal: Principal, patient_id: uuid.UUID
) -> PatientRead:
    patient = await service.get(principal, patient_id)
    policies.require(policies.can_link_patient_user(principal), LINK_DENIED)
    return patient


def _account_page(
    request: Request,
    principal: Principal,
    patient: PatientRead,
    status_code: int = 200,
    **values: Any,
) -> Response:
    data: dict[str, Any] = {"patient": patient, "email": "", "errors": {}, "error": None}
    data.update(values)
    return render(
        request, "patients_account.html", data, principal=principal, status_code=status_code
    )


@router.get("/patients/{patient_id:uuid}/account", name="portal.patient.account")
async def account(
    request: Request,
    patient_id: uuid.UUID,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    patient = await _linkable(PatientService(session, container), principal, patient_id)
    return _account_page(request, principal, patient)


@router.post("/patients/{patient_id:uuid}/account", name="portal.patient.link")
async def link(
    request: Request,
    patient_id: uuid.UUID,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    service = PatientService(session, container)
    patient = await _linkable(service, principal, patient_id)
    if form.get("action") == "unlink":
        await service.link_user(principal, patient.id, None)
        return see_other(f"/patients/{patient.id}?notice=unlinked")
    email = form.get("email").strip()[:320]
    if not email:
        errors = {"email": "Enter the email address of the patient's account."}
        return _account_page(request, principal, patient, 400, errors=errors)
    try:
        await service.link_user_by_email(principal, patient.id, email)
    except (RequestInvalid, PatientUserAlreadyLinked) as error:
        await discard_changes(session)
        status = 409 if isinstance(error, PatientUserAlreadyLinked) else 400
        message = (
            "This account is already linked to another patient's chart: unlink it there first."
            if isinstance(error, PatientUserAlreadyLinked)
            else "No patient account has this email in your organization: invite the patient "
            "first (as a patient), then link the account."
        )
        return _account_page(
            request, principal, patient, status, email=email, errors={"email": message}
        )
    return see_other(f"/patients/{patient.id}?notice=linked")
