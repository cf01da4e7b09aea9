"""Who may do what with patients, medical records and appointments. Deny by default.

Pure functions of the principal and the facts of the target. A target in
another tenant never reaches them: the tenant-scoped query already answered
404. Two questions are kept apart: whether the principal may *see* that an
object exists (a patient sees only their own chart: anything else is 404) and
whether the principal may *act* on a visible object (otherwise 403).
"""

from __future__ import annotations

import uuid

from clinvault.errors import PermissionDenied
from clinvault.identity.principal import Principal, Role

STAFF_ROLES = (Role.ORG_ADMIN, Role.DOCTOR, Role.NURSE, Role.CLERK)
CLINICAL_ROLES = (Role.ORG_ADMIN, Role.DOCTOR, Role.NURSE)
FRONT_DESK_ROLES = (Role.ORG_ADMIN, Role.CLERK)

DEMOGRAPHIC_FIELDS = frozenset(
    {
        "mrn",
        "first_name",
        "last_name",
        "date_of_birth",
        "gender",
        "phone",
        "email",
        "address",
        "ssn",
        "user_id",
    }
)
CLINICAL_FIELDS = frozenset({"allergies", "emergency_contact", "blood_type"})


def require(allowed: bool, detail: str) -> None:
    if not allowed:
        raise PermissionDenied(detail)


def is_staff(principal: Principal) -> bool:
    return principal.has(*STAFF_ROLES)


def acts_as_patient(principal: Principal) -> bool:
    """A patient account without a staff role: confined to its own chart."""
    return principal.has(Role.PATIENT) and not is_staff(principal)


def is_own_patient(principal: Principal, patient_user_id: uuid.UUID | None) -> bool:
    """The principal is the patient account linked to the chart (and still holds that role)."""
    return (
        principal.has(Role.PATIENT)
        and patient_user_id is not None
        and patient_user_id == principal.user_id
    )


def sees_patient(principal: Principal, patient_user_id: uuid.UUID | None) -> bool:
    """Whether the patient's existence may be revealed (False answers 404)."""
    if acts_as_patient(principal):
        return is_own_patient(principal, patient_user_id)
    return True


# Patients


def can_create_patient(principal: Principal) -> bool:
    return is_staff(principal)


def can_list_patients(principal: Principal) -> bool:
    """Staff list the organization's patients; a patient lists only their own."""
    return is_staff(principal) or principal.has(Role.PATIENT)


def can_read_patient(principal: Principal, patient_user_id: uuid.UUID | None) -> bool:
    return is_staff(principal) or is_own_patient(principal, patient_user_id)


def editable_patient_fields(principal: Principal) -> frozenset[str]:
    """Front desk and administrators change everything; clinicians the clinical fields."""
    if principal.has(*FRONT_DESK_ROLES):
        return DEMOGRAPHIC_FIELDS | CLINICAL_FIELDS
    if principal.has(Role.DOCTOR, Role.NURSE):
        return CLINICAL_FIELDS
    return frozenset()


def forbidden_patient_fields(principal: Principal, changed: set[str]) -> list[str]:
    return sorted(changed - editable_patient_fields(principal))


def can_update_patient(principal: Principal) -> bool:
    return bool(editable_patient_fields(principal))


def can_link_patient_user(principal: Principal) -> bool:
    return principal.has(*FRONT_DESK_ROLES)


# Medical records


def can_write_records(principal: Principal) -> bool:
    """Create, amend and attach files: administrators, doctors and nurses."""
    return principal.has(*CLINICAL_ROLES)


def can_read_records(principal: Principal, patient_user_id: uuid.UUID | None) -> bool:
    return principal.has(*CLINICAL_ROLES) or is_own_patient(principal, patient_user_id)


def can_list_records(principal: Principal) -> bool:
    return principal.has(*CLINICAL_ROLES) or principal.has(Role.PATIENT)


def can_read_record_catalogue(principal: Principal) -> bool:
    return bool(principal.roles)


# Appointments


def can_book_appointments(principal: Principal) -> bool:
    """Book, reschedule and cancel: administrators and clerks."""
    return principal.has(*FRONT_DESK_ROLES)


def can_list_appointments(principal: Principal) -> bool:
    return is_staff(principal) or principal.has(Role.PATIENT)


def can_read_appointment(principal: Principal, patient_user_id: uuid.UUID | None) -> bool:
    return is_staff(principal) or is_own_patient(principal, patient_user_id)


def can_take_appointments(roles: list[str]) -> bool:
    """A practitioner who can be booked: a doctor or a nurse."""
    return Role.DOCTOR.value in roles or Role.NURSE.value in roles


# Patient self-service: only the patient account linked to the chart.


def can_request_appointment(principal: Principal, patient_user_id: uuid.UUID | None) -> bool:
    """Ask for an appointment (staff confirm it): the patient, for their own chart."""
    return is_own_patient(principal, patient_user_id)


def can_cancel_own_appointment(principal: Principal, patient_user_id: uuid.UUID | None) -> bool:
    return is_own_patient(principal, patient_user_id)


def can_export_own_chart(principal: Principal, patient_user_id: uuid.UUID | None) -> bool:
    """Download the chart (FHIR-style JSON, PDF) and see who opened it: the patient only."""
    return is_own_patient(principal, patient_user_id)
