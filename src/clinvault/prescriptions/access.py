"""Finding a prescription for a principal: through its tenant, or a pharmacy's grant.

The provider organization finds its own prescriptions (a patient account only
its own chart's); a pharmacy finds one only through a live grant. Anything
else is a 404 (`PrescriptionNotFound`), whatever the role.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from clinvault import context
from clinvault.errors import PermissionDenied
from clinvault.errors.prescriptions import PrescriptionNotFound
from clinvault.identity.principal import Principal
from clinvault.models.identity import Organization
from clinvault.models.prescriptions import Prescription, PrescriptionGrant
from clinvault.prescriptions import policies
from clinvault.prescriptions.repository import PrescriptionRepository
from clinvault.prescriptions.states import Actor

NOT_FOUND = "No such prescription among those you can see: check the id."


@dataclass(frozen=True, slots=True)
class Access:
    rx: Prescription
    actors: frozenset[Actor]
    for_pharmacy: bool
    grant: PrescriptionGrant | None = None


async def home_organization(
    repository: PrescriptionRepository, principal: Principal
) -> Organization:
    organization = await repository.organization_global(principal.organization_id)
    if organization is None:
        raise PrescriptionNotFound(NOT_FOUND)
    return organization


async def find(
    repository: PrescriptionRepository, principal: Principal, prescription_id: uuid.UUID
) -> Access:
    """The prescription as `principal` may see it, with the actors it may act as."""
    context.describe_resource("prescription", prescription_id)
    organization = await home_organization(repository, principal)
    if organization.kind == policies.PHARMACY:
        found = await repository.get_granted(prescription_id, grantee=organization.id)
        if found is None:
            raise PrescriptionNotFound(NOT_FOUND)
        rx, grant = found
        if not policies.is_pharmacy_staff(principal, organization.kind):
            raise PermissionDenied("Only pharmacists work on prescriptions routed here.")
        acts = grant.scope == "fulfil" and rx.pharmacy_id == organization.id
        actors = frozenset({Actor.PHARMACY}) if acts else frozenset()
        return Access(rx, actors, True, grant)
    own = await repository.get(prescription_id, tenant=principal.organization_id)
    if own is None:
        raise PrescriptionNotFound(NOT_FOUND)
    rx = own
    patient = await repository.patient(rx.patient_id, tenant=rx.organization_id)
    patient_user = patient.user_id if patient else None
    if not policies.sees(principal, patient_user):
        raise PrescriptionNotFound(NOT_FOUND)
    if not policies.can_read(principal, patient_user):
        raise PermissionDenied("Only clinicians and the patient read prescriptions.")
    return Access(rx, policies.provider_actors(principal, rx.prescriber_id, patient_user), False)
