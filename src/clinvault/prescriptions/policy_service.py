"""The organization's prescribing policy: default validity and the schedule V limits.

- `PolicyService.read(principal)`: clinicians of a provider organization see it.
- `update(principal, data)`: its organization administrators change it.

Absent a row, the built-in defaults of `rules.PrescribingPolicy` apply. A change
applies to prescriptions written afterwards; the ones already written keep the
valid-until date and refills they were written with.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.errors import PermissionDenied
from clinvault.identity.principal import Principal
from clinvault.models.prescriptions import PrescriptionPolicy
from clinvault.prescriptions import access, policies
from clinvault.prescriptions.repository import PrescriptionRepository
from clinvault.prescriptions.rules import PrescribingPolicy
from clinvault.prescriptions.schemas import PolicyRead, PolicyUpdate


class PolicyService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.repository = PrescriptionRepository(session)

    async def read(self, principal: Principal) -> PolicyRead:
        context.describe_resource("prescription_policy", principal.organization_id)
        organization = await access.home_organization(self.repository, principal)
        if not policies.can_read_policy(principal, organization.kind):
            raise PermissionDenied(
                "Only clinicians of a provider organization read its prescribing policy."
            )
        return _read(await self.repository.policy(tenant=principal.organization_id))

    async def update(self, principal: Principal, data: PolicyUpdate) -> PolicyRead:
        context.describe_resource("prescription_policy", principal.organization_id)
        organization = await access.home_organization(self.repository, principal)
        if not policies.can_change_policy(principal, organization.kind):
            raise PermissionDenied(
                "Only administrators of a provider organization change its prescribing policy."
            )
        row = await self.repository.policy(tenant=principal.organization_id)
        if row is None:
            row = PrescriptionPolicy(organization_id=principal.organization_id)
            row.default_validity_days = data.default_validity_days
            row.schedule_v_max_refills = data.schedule_v_max_refills
            row.schedule_v_max_days = data.schedule_v_max_days
            await self.repository.add(row)
        else:
            row.default_validity_days = data.default_validity_days
            row.schedule_v_max_refills = data.schedule_v_max_refills
            row.schedule_v_max_days = data.schedule_v_max_days
            await self.session.flush()
        return _read(row)


def _read(row: PrescriptionPolicy | None) -> PolicyRead:
    if row is None:
        default = PrescribingPolicy()
        return PolicyRead(
            default_validity_days=default.default_validity_days,
            schedule_v_max_refills=default.schedule_v_max_refills,
            schedule_v_max_days=default.schedule_v_max_days,
            customised=False,
            updated_at=None,
        )
    return PolicyRead(
        default_validity_days=row.default_validity_days,
        schedule_v_max_refills=row.schedule_v_max_refills,
        schedule_v_max_days=row.schedule_v_max_days,
        customised=True,
        updated_at=row.updated_at,
    )
