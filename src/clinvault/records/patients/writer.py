"""Writing patients without permission checks: for services, the demo and imports.

`create_patient` is the one way a patient row comes to exist, so every
caller gets the same normalization (E.164 phone, generated MRN) and the same
search tokens. Callers that act for a user check policies first
(see service.py).
"""

from __future__ import annotations

import secrets
import uuid
from datetime import date
from typing import Any

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.crypto.blind_index import BlindIndexer
from clinvault.errors import PatientMrnTaken, RequestInvalid
from clinvault.models.records import Patient
from clinvault.records.patients.repository import PatientRepository
from clinvault.records.patients.schemas import PatientCreate, PatientRead
from clinvault.records.patients.search import mrn_digest, patient_tokens
from clinvault.records.phones import PhoneInvalid, to_e164

log = structlog.get_logger(__name__)

MRN_DIGITS = 8
MRN_ATTEMPTS = 8
SEARCHED_FIELDS = frozenset(
    {"first_name", "last_name", "date_of_birth", "phone", "gender", "blood_type"}
)
MRN_RACED = "Another patient was registered with the same number just now: send it again."
MRN_TAKEN = (
    "Another patient of your organization has this medical record number: check it, or "
    "leave 'mrn' out to have one generated."
)


def normalized_phone(value: str | None, default_country_code: str) -> str | None:
    if value is None:
        return None
    try:
        return to_e164(value, default_country_code)
    except PhoneInvalid as exc:
        raise RequestInvalid(
            f"Correct the phone number: {exc}.",
            errors=[{"field": "phone", "in": "body", "message": str(exc), "type": "phone"}],
        ) from None


def new_mrn() -> str:
    """8 random digits: short to read out, with no order to guess from."""
    return f"{secrets.randbelow(10**MRN_DIGITS):0{MRN_DIGITS}d}"


def patient_read(patient: Patient) -> PatientRead:
    return PatientRead(
        id=patient.id,
        mrn=patient.mrn,
        first_name=patient.first_name,
        last_name=patient.last_name,
        date_of_birth=date.fromisoformat(patient.date_of_birth) if patient.date_of_birth else None,
        gender=patient.gender,
        phone=patient.phone,
        email=patient.email,
        address=patient.address,
        blood_type=patient.blood_type,
        allergies=patient.allergies,
        emergency_contact=patient.emergency_contact,
        ssn_last4=patient.ssn[-4:] if patient.ssn else None,
        user_id=patient.user_id,
        created_at=patient.created_at,
        updated_at=patient.updated_at,
    )


def storable(name: str, value: Any) -> Any:
    """The column value of a validated field (dates as ISO text, SSN as 9 digits)."""
    if value is None:
        return None
    if name == "date_of_birth":
        return value.isoformat()
    if name == "ssn":
        return str(value).replace("-", "")
    if name == "email":
        return str(value)
    return value


async def create_patient(
    session: AsyncSession,
    indexer: BlindIndexer,
    *,
    organization_id: uuid.UUID,
    data: PatientCreate,
    default_country_code: str,
    created_by: uuid.UUID | None = None,
) -> Patient:
    """Insert a patient and its search tokens; an explicit MRN already in use is a 409."""
    repository = PatientRepository(session)
    values = {
        name: storable(name, value)
        for name, value in data.model_dump(exclude={"mrn", "phone"}).items()
    }
    phone = normalized_phone(data.phone, default_country_code)
    explicit_mrn = data.mrn
    for _attempt in range(1 if explicit_mrn else MRN_ATTEMPTS):
        mrn = explicit_mrn or new_mrn()
        digest = mrn_digest(indexer, mrn)
        if await repository.mrn_taken(digest, tenant=organization_id):
            continue
        patient = Patient(
            organization_id=organization_id,
            mrn=mrn,
            mrn_index=digest,
            phone=phone,
            created_by=created_by,
            **values,
        )
        try:
            await repository.add(patient)
        except IntegrityError:
            # Only a concurrent insert of the same MRN gets here; the transaction is spent.
            raise PatientMrnTaken(MRN_TAKEN if explicit_mrn else MRN_RACED) from None
        await repository.replace_tokens(patient, tokens_of(indexer, patient), fresh=True)
        log.info("records.patient.created", patient_id=str(patient.id))
        return patient
    if explicit_mrn:
        raise PatientMrnTaken(MRN_TAKEN)
    raise RuntimeError("could not draw an unused medical record number")


def tokens_of(indexer: BlindIndexer, patient: Patient) -> list[tuple[str, str]]:
    return patient_tokens(
        indexer,
        first_name=patient.first_name,
        last_name=patient.last_name,
        date_of_birth=patient.date_of_birth,
        phone=patient.phone,
        gender=patient.gender,
        blood_type=patient.blood_type,
    )
