"""HTTP routes of patients: /api/patients/."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from clinvault.deps import ContainerDep, PrincipalDep, SessionDep
from clinvault.inputs import SingleLine
from clinvault.records.http import PageDep
from clinvault.records.patients.duplicates import DuplicateCheck
from clinvault.records.patients.filters import MAX_AGE
from clinvault.records.patients.schemas import (
    BLOOD_TYPES,
    GENDERS,
    DuplicateQuery,
    LikelyDuplicates,
    PatientCreate,
    PatientPage,
    PatientRead,
    PatientSearchPage,
    PatientUpdate,
    PatientUserLink,
)
from clinvault.records.patients.service import PatientService

router = APIRouter(prefix="/api/patients", tags=["patients"])


@router.post("/", name="records.patient.create", status_code=status.HTTP_201_CREATED)
async def create_patient(
    body: PatientCreate, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> PatientRead:
    """Register a patient (administrators, clerks, doctors, nurses); MRN generated if absent."""
    return await PatientService(session, container).create(principal, body)


@router.post("/duplicates", name="records.patient.duplicates")
async def likely_duplicates(
    body: DuplicateQuery, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> LikelyDuplicates:
    """Before registering: the patients with the same first and last name and date of
    birth, or the same phone number (searched through the blind index; staff only)."""
    return await DuplicateCheck(session, container).check(principal, body)


@router.get("/", name="records.patient.list")
async def list_patients(
    principal: PrincipalDep, session: SessionDep, container: ContainerDep, paging: PageDep
) -> PatientPage:
    """The organization's patients in registration order; a patient sees only their own."""
    return await PatientService(session, container).list_patients(principal, paging)


@router.get("/search", name="records.patient.search")
async def search_patients(
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
    paging: PageDep,
    q: Annotated[
        Annotated[str, SingleLine(100, min_length=0)] | None,
        Query(description="Name prefix, MRN, YYYY-MM-DD or phone"),
    ] = None,
    gender: Annotated[
        Annotated[str, SingleLine(16, min_length=0)] | None,
        Query(description=f"One of {', '.join(GENDERS)} (any case)"),
    ] = None,
    blood_type: Annotated[
        Annotated[str, SingleLine(8, min_length=0, strip=False)] | None,
        Query(description=f"One of {', '.join(BLOOD_TYPES)} (write + as %2B in a URL)"),
    ] = None,
    age_min: Annotated[
        int | None, Query(ge=0, le=MAX_AGE, description="Age in whole years, at least")
    ] = None,
    age_max: Annotated[
        int | None, Query(ge=0, le=MAX_AGE, description="Age in whole years, at most")
    ] = None,
) -> PatientSearchPage:
    """One box: name prefixes (first or last, any case or accent), exact MRN, date of
    birth (YYYY-MM-DD) or phone number (any format); and the filters gender,
    blood_type, age_min and age_max (ages today, both bounds included), which combine
    with `q` and with each other, or are used without `q`. At least one of `q` and the
    filters is needed. Past 1,000 matches `total` is a lower bound and `total_exact`
    is false."""
    return await PatientService(session, container).search(
        principal,
        q,
        paging,
        gender=gender,
        blood_type=blood_type,
        age_min=age_min,
        age_max=age_max,
    )


@router.get("/{patient_id}", name="records.patient.read")
async def read_patient(
    patient_id: uuid.UUID, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> PatientRead:
    return await PatientService(session, container).get(principal, patient_id)


@router.put("/{patient_id}", name="records.patient.update")
async def update_patient(
    patient_id: uuid.UUID,
    body: PatientUpdate,
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
) -> PatientRead:
    """Change the fields sent. Administrators and clerks: all; doctors and nurses:
    allergies, emergency_contact and blood_type only."""
    return await PatientService(session, container).update(principal, patient_id, body)


@router.post("/{patient_id}/link-user", name="records.patient.link_user")
async def link_patient_user(
    patient_id: uuid.UUID,
    body: PatientUserLink,
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
) -> PatientRead:
    """Link the patient's own account (a `patient` user), or unlink with null."""
    return await PatientService(session, container).link_user(principal, patient_id, body.user_id)
