"""Each clinician's choice of care-plan emails: `immediate` (one per event, the
default) or `daily_digest` (one a day, `clinvault.careplans.digest`). In-app
notifications stay immediate either way."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.careplans import access, policies
from clinvault.careplans.repository import CarePlanRepository
from clinvault.careplans.schemas import MailDelivery, MailPreference
from clinvault.errors import PermissionDenied
from clinvault.identity.principal import Principal
from clinvault.models.careplans import CarePlanMailPreference
from clinvault.timeutil import utcnow


class MailPreferenceService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.repository = CarePlanRepository(session)

    async def _clinician(self, principal: Principal) -> None:
        context.describe_resource("care_plan_mail_preference", principal.user_id)
        kind = await access.organization_kind(self.repository, principal)
        if not policies.is_clinician(principal, kind):
            raise PermissionDenied(
                "Care-plan emails go to the clinicians of provider organizations only."
            )

    async def get(self, principal: Principal) -> MailPreference:
        await self._clinician(principal)
        row = await self.repository.mail_preference(principal.user_id)
        return MailPreference(
            email=MailDelivery.IMMEDIATE if row is None else MailDelivery(row.delivery)
        )

    async def set(self, principal: Principal, data: MailPreference) -> MailPreference:
        await self._clinician(principal)
        row = await self.repository.mail_preference(principal.user_id)
        if row is None:
            await self.repository.add(
                CarePlanMailPreference(
                    organization_id=principal.organization_id,
                    user_id=principal.user_id,
                    delivery=data.email.value,
                )
            )
        else:
            row.delivery = data.email.value
            row.updated_at = utcnow()
            await self.session.flush()
        return MailPreference(email=data.email)
