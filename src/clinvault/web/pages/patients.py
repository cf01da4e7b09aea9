"""Patients in the portal: the list with its search box, and registering a patient.

Also holds the small form helpers the other records pages share: turning a
validation failure into one message per field, and reading optional fields.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import Request, Response
from pydantic import ValidationError

from clinvault.deps import ContainerDep, SessionDep
from clinvault.errors import AppError, PatientMrnTaken, RequestInvalid, SearchQueryInvalid
from clinvault.identity.principal import Principal
from clinvault.records import policies
from clinvault.records.pagination import PageRequest
from clinvault.records.patients.duplicates import DuplicateCheck
from clinvault.records.patients.schemas import BLOOD_TYPES, GENDERS, PatientCreate, PatientPage
from clinvault.records.patients.search import MAX_QUERY
from clinvault.records.patients.service import PatientService
from clinvault.records.phones import PhoneInvalid, to_e164
from clinvault.web.csrf import PortalForm
from clinvault.web.pages import form_errors as wording
from clinvault.web.pages.common import VerifiedForm, discard_changes, portal_router, see_other
from clinvault.web.pages.form_errors import plain_errors
from clinvault.web.render import render
from clinvault.web.session import PortalPrincipal

router = portal_router()

PAGE_SIZE = 20
MAX_PAGE = 100_000
PATIENT_FIELDS = (
    "first_name",
    "last_name",
    "date_of_birth",
    "gender",
    "mrn",
    "phone",
    "email",
    "address",
    "blood_type",
    "allergies",
    "emergency_contact",
    "ssn",
)
# Longest value a form field may carry before validation; longer is cut and then refused.
MAX_FIELD = 100_001
NEVER_ECHOED = frozenset({"ssn"})
EMAIL_LABEL = {"email": "Enter a valid email address, like name@example.org."}
MRN_IN_USE = (
    "Another patient has this medical record number: check it, or leave it empty to have "
    "one generated."
)


def form_values(form: PortalForm, names: Iterable[str]) -> dict[str, str]:
    """The submitted text of each field, trimmed; missing fields read as ""."""
    return {name: form.get(name).strip()[:MAX_FIELD] for name in names}


def optional(values: Mapping[str, str]) -> dict[str, str | None]:
    """Empty fields become None so that optional fields are left out."""
    return {name: (value if value else None) for name, value in values.items()}


def _sentence(message: str) -> str:
    text = message.removeprefix("Value error, ").strip()
    if not text:
        return "Check this value."
    text = text[0].upper() + text[1:]
    return text if text.endswith(".") else text + "."


def field_errors(
    error: ValidationError,
    values: Mapping[str, str],
    labels: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """One message per field of a failed validation (the first problem of each).

    A field left empty gets "fill in"; `labels` replaces the validator's wording.
    """
    found: dict[str, str] = {}
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else "form"
        if field in found:
            continue
        if field in values and not values[field]:
            found[field] = "Fill in this field."
        else:
            found[field] = (labels or {}).get(field) or _sentence(str(item["msg"]))
    return found


def app_field_errors(error: AppError) -> dict[str, str]:
    """The fields an application error names, each with a message; {} when it names none."""
    found: dict[str, str] = {}
    for item in error.errors or []:
        field = str(item.get("field") or "")
        if field and field not in found:
            named = len(error.errors or []) == 1
            found[field] = error.detail if named else _sentence(str(item.get("message", "")))
    return found


def page_count(total: int, page_size: int) -> int:
    return max(1, math.ceil(total / page_size))


def _patients_page(
    request: Request, principal: Principal, result: PatientPage | None, **values: Any
) -> Response:
    data: dict[str, Any] = {
        "q": "",
        "result": result,
        "pages": page_count(result.total, result.page_size) if result else 1,
        "search_error": None,
        "can_register": policies.can_create_patient(principal),
        "notice": None,
    }
    data.update(values)
    status_code = 400 if data["search_error"] else 200
    return render(request, "patients_list.html", data, principal=principal, status_code=status_code)


@router.get("/patients", name="portal.patient.list")
async def patients(
    request: Request,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
    q: str = "",
    page: int = 1,
) -> Response:
    service = PatientService(session, container)
    query = q.strip()[:MAX_QUERY]
    paging = PageRequest(page=min(max(page, 1), MAX_PAGE), page_size=PAGE_SIZE)
    if not query:
        return _patients_page(request, principal, await service.list_patients(principal, paging))
    try:
        result = await service.search(principal, query, paging)
    except SearchQueryInvalid as error:
        return _patients_page(request, principal, None, q=query, search_error=error.detail)
    return _patients_page(request, principal, result, q=query)


def _new_patient_page(
    request: Request, principal: Principal, status_code: int = 200, **values: Any
) -> Response:
    data: dict[str, Any] = {
        "values": dict.fromkeys(PATIENT_FIELDS, ""),
        "errors": {},
        "error": None,
        "duplicates": [],
        "genders": GENDERS,
        "blood_types": BLOOD_TYPES,
    }
    data.update(values)
    return render(request, "patients_new.html", data, principal=principal, status_code=status_code)


def _require_registrar(principal: Principal) -> None:
    policies.require(
        policies.can_create_patient(principal),
        "Only administrators, clerks, doctors and nurses register patients.",
    )


@router.get("/patients/new", name="portal.patient.new")
async def new_patient(request: Request, principal: PortalPrincipal) -> Response:
    _require_registrar(principal)
    return _new_patient_page(request, principal)


async def registration_problems(
    service: PatientService, principal: Principal, values: dict[str, str], country_code: str
) -> tuple[PatientCreate | None, dict[str, str]]:
    """The validated patient, or every problem of the form at once (the checks the
    service would make later included: phone number and medical record number)."""
    data: PatientCreate | None = None
    errors: dict[str, str] = {}
    try:
        data = PatientCreate.model_validate(optional(values))
    except ValidationError as error:
        errors = plain_errors(error, values, wording.PATIENT)
    if "phone" not in errors and values["phone"]:
        try:
            to_e164(values["phone"], country_code)
        except PhoneInvalid:
            errors["phone"] = wording.PATIENT["phone"].invalid
    mrn = values["mrn"] if "mrn" not in errors else ""
    if mrn and await service.lookup_mrn(principal, mrn) is not None:
        errors["mrn"] = MRN_IN_USE
    return (None if errors else data), errors


@router.post("/patients/new", name="portal.patient.create")
async def create_patient(
    request: Request,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    _require_registrar(principal)
    values = form_values(form, PATIENT_FIELDS)
    shown = {name: ("" if name in NEVER_ECHOED else value) for name, value in values.items()}
    service = PatientService(session, container)
    data, errors = await registration_problems(
        service, principal, values, container.settings.records.default_phone_country_code
    )
    if data is None:
        return _new_patient_page(request, principal, 400, values=shown, errors=errors)
    if form.get("register_anyway") != "yes":
        duplicates = await DuplicateCheck(session, container).likely_duplicates(
            principal,
            first_name=data.first_name,
            last_name=data.last_name,
            date_of_birth=data.date_of_birth,
            phone=data.phone,
        )
        if duplicates:
            return _new_patient_page(request, principal, 409, values=shown, duplicates=duplicates)
    try:
        patient = await service.create(principal, data)
    except (PatientMrnTaken, RequestInvalid) as error:
        await discard_changes(session)
        errors = app_field_errors(error) or ({"mrn": MRN_IN_USE} if error.status == 409 else {})
        return _new_patient_page(
            request,
            principal,
            error.status,
            values=shown,
            errors=errors,
            error=None if errors else error.detail,
        )
    return see_other(f"/patients/{patient.id}?notice=registered")
