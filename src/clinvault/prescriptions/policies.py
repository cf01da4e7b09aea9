"""Who may do what with prescriptions. Deny by default; pure functions.

Two tenants meet here. The provider organization owns the prescription: its
clinicians read it, its doctors prescribe, the named prescriber signs and
moves it, the patient's own account reads it and changes the pharmacy. The
pharmacy is another organization: its pharmacists see a prescription only
through a live grant (`prescription_grants`), and then only what they need.
Without a grant the prescription is a 404 to them, like any other tenant's
object; the pharmacy's queue is a 404 to anyone outside a pharmacy.
"""

from __future__ import annotations

import uuid

from clinvault.identity.principal import Principal, Role
from clinvault.prescriptions.states import Actor

CLINICAL_ROLES = (Role.ORG_ADMIN, Role.DOCTOR, Role.NURSE)
PRESCRIBING_ROLES = (Role.DOCTOR, Role.NURSE)
PHARMACY_ROLES = (Role.PHARMACIST,)
PROVIDER = "provider"
PHARMACY = "pharmacy"


def acts_as_patient(principal: Principal) -> bool:
    return principal.has(Role.PATIENT) and not principal.has(
        Role.ORG_ADMIN, Role.DOCTOR, Role.NURSE, Role.CLERK
    )


def can_search_pharmacies(principal: Principal, organization_kind: str) -> bool:
    """A provider organization's staff and its patients look pharmacies up."""
    return organization_kind == PROVIDER and principal.has(
        Role.ORG_ADMIN, Role.DOCTOR, Role.NURSE, Role.CLERK, Role.PATIENT
    )


def can_create(principal: Principal, organization_kind: str) -> bool:
    """Doctors prescribe; nurses write drafts that a doctor signs."""
    return organization_kind == PROVIDER and principal.has(*PRESCRIBING_ROLES)


def can_list(principal: Principal) -> bool:
    return principal.has(*CLINICAL_ROLES) or principal.has(Role.PATIENT)


def can_read(principal: Principal, patient_user_id: uuid.UUID | None) -> bool:
    return principal.has(*CLINICAL_ROLES) or is_own(principal, patient_user_id)


def is_own(principal: Principal, patient_user_id: uuid.UUID | None) -> bool:
    return (
        principal.has(Role.PATIENT)
        and patient_user_id is not None
        and patient_user_id == principal.user_id
    )


def sees(principal: Principal, patient_user_id: uuid.UUID | None) -> bool:
    """Whether the prescription's existence may be revealed (False answers 404)."""
    if acts_as_patient(principal):
        return is_own(principal, patient_user_id)
    return True


def is_pharmacy_staff(principal: Principal, organization_kind: str) -> bool:
    return organization_kind == PHARMACY and principal.has(*PHARMACY_ROLES)


def provider_actors(
    principal: Principal, prescriber_id: uuid.UUID, patient_user_id: uuid.UUID | None
) -> frozenset[Actor]:
    """The state-table actors a member of the owning organization acts as."""
    actors: set[Actor] = set()
    if principal.has(Role.DOCTOR) and principal.user_id == prescriber_id:
        actors.add(Actor.PRESCRIBER)
    if is_own(principal, patient_user_id):
        actors.add(Actor.PATIENT)
    return frozenset(actors)


def can_read_policy(principal: Principal, organization_kind: str) -> bool:
    """The prescribing policy: the clinicians who prescribe under it, and its administrators."""
    return organization_kind == PROVIDER and principal.has(*CLINICAL_ROLES)


def can_change_policy(principal: Principal, organization_kind: str) -> bool:
    return organization_kind == PROVIDER and principal.has(Role.ORG_ADMIN)


def is_prescribing_doctor(roles: list[str]) -> bool:
    return Role.DOCTOR.value in roles
