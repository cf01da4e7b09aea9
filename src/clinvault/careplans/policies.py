"""Who may do what with care plans. Deny by default; pure functions.

A provider organization's clinicians (doctors, nurses, organization
administrators) write and read its plans. A patient's own account reads, and
only reads, the plans marked as shared with the patient; any other plan is a
404 to a patient. Everyone else (clerks, pharmacists, reviewers) is refused.
"""

from __future__ import annotations

import uuid

from clinvault.identity.principal import Principal, Role

CLINICAL_ROLES = (Role.ORG_ADMIN, Role.DOCTOR, Role.NURSE)
PROVIDER = "provider"


def acts_as_patient(principal: Principal) -> bool:
    return principal.has(Role.PATIENT) and not principal.has(*CLINICAL_ROLES, Role.CLERK)


def is_clinician(principal: Principal, organization_kind: str) -> bool:
    return organization_kind == PROVIDER and principal.has(*CLINICAL_ROLES)


def can_write(principal: Principal, organization_kind: str) -> bool:
    """Create, change and restore plans."""
    return is_clinician(principal, organization_kind)


def can_list(principal: Principal, organization_kind: str) -> bool:
    return is_clinician(principal, organization_kind) or acts_as_patient(principal)


def patient_sees(
    principal: Principal, patient_user_id: uuid.UUID | None, shared_with_patient: bool
) -> bool:
    """A patient sees their own plan once it is marked as shared with them."""
    return (
        acts_as_patient(principal)
        and shared_with_patient
        and patient_user_id is not None
        and patient_user_id == principal.user_id
    )
