"""Finding a plan for a principal: through its tenant, or a live share.

The owning organization's clinicians hold the plan at `edit`; its patient
account sees it read-only once it is marked as shared with the patient. A
clinician of another provider organization (or a named user) holds it at the
share's level, only while an accepted share is live (not revoked, not
expired); to the organization's other staff such a plan is a 403. Anything
else is a 404 (`CarePlanNotFound`), whatever the role.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from clinvault import context
from clinvault.careplans import policies
from clinvault.careplans.repository import CarePlanRepository
from clinvault.errors import PermissionDenied
from clinvault.errors.careplans import CarePlanNotFound
from clinvault.identity.principal import Principal
from clinvault.models.careplans import CarePlan
from clinvault.timeutil import utcnow

NOT_FOUND = "No such care plan among those you can see: check the id."
LEVELS = ("view", "comment", "edit")


def rank(level: str) -> int:
    return LEVELS.index(level) if level in LEVELS else -1


@dataclass(frozen=True, slots=True)
class Access:
    plan: CarePlan
    level: str
    foreign: bool = False
    patient: bool = False


async def organization_kind(repository: CarePlanRepository, principal: Principal) -> str:
    organization = await repository.organization_global(principal.organization_id)
    return "" if organization is None else organization.kind


async def find(repository: CarePlanRepository, principal: Principal, plan_id: uuid.UUID) -> Access:
    """The plan as `principal` may see it, with the level held."""
    context.describe_resource("care_plan", plan_id)
    plan = await repository.get_global(plan_id)
    if plan is None:
        raise CarePlanNotFound(NOT_FOUND)
    kind = await organization_kind(repository, principal)
    clinician = policies.is_clinician(principal, kind)
    if plan.organization_id == principal.organization_id:
        if clinician:
            return Access(plan, "edit")
        if policies.acts_as_patient(principal):
            patient = await repository.patient(plan.patient_id, tenant=plan.organization_id)
            user = None if patient is None else patient.user_id
            if policies.patient_sees(principal, user, plan.shared_with_patient):
                return Access(plan, "view", patient=True)
            raise CarePlanNotFound(NOT_FOUND)
        raise PermissionDenied("Only the organization's clinicians read care plans.")
    levels = await repository.live_share_levels(
        plan.id, user_id=principal.user_id, organization_id=principal.organization_id, now=utcnow()
    )
    if not levels or policies.acts_as_patient(principal):
        raise CarePlanNotFound(NOT_FOUND)
    if not clinician:
        # The share makes the plan known to the organization; only its clinicians use it.
        raise PermissionDenied("Only clinicians read the care plans shared with your organization.")
    return Access(plan, max(levels, key=rank), foreign=True)
