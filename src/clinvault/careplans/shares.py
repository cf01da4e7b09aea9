"""Sharing a plan: grants to a user or to another provider organization.

- `share(principal, plan_id, data)`: a grant at a level no higher than the
  sharer's own; never to a pharmacy or a patient; one to another organization
  always expires (90 days unless said) and waits for that organization's
  acceptance.
- `of_plan`, `owned` (every live share of the organization's plans),
  `incoming` (shares offered to the principal or their organization).
- `accept`, `change_expiry`, `revoke` (kept on record: who, when).

Services never commit.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.bootstrap import Container
from clinvault.careplans import access, policies, watchers
from clinvault.careplans.repository import CarePlanRepository
from clinvault.careplans.schemas import ShareCreate, ShareLevel, ShareRead
from clinvault.careplans.service import CarePlanService
from clinvault.errors import PermissionDenied
from clinvault.errors.careplans import (
    CarePlanLevelTooHigh,
    CarePlanShareInvalid,
    CarePlanShareNotFound,
)
from clinvault.identity.principal import Principal, Role
from clinvault.models.careplans import CarePlanShare
from clinvault.timeutil import utcnow

DEFAULT_DAYS = 90
SHARE_NOT_FOUND = "No such share among those you can see: check the id."
CLINICAL = {Role.ORG_ADMIN.value, Role.DOCTOR.value, Role.NURSE.value}


def _end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)


def _state(share: CarePlanShare, now: datetime) -> str:
    if share.revoked_at is not None:
        return "revoked"
    if share.expires_at is not None and share.expires_at <= now:
        return "expired"
    return "pending" if share.accepted_at is None else "live"


class ShareService:
    def __init__(self, session: AsyncSession, container: Container | None = None) -> None:
        self.session = session
        self.repository = CarePlanRepository(session)
        self.plans = CarePlanService(session, container)

    async def share(self, principal: Principal, plan_id: uuid.UUID, data: ShareCreate) -> ShareRead:
        found = await self.plans.find(principal, plan_id, "shares.create")
        if found.patient:
            raise PermissionDenied("Patients read their plans; clinicians share them.")
        if access.rank(data.level.value) > access.rank(found.level):
            raise CarePlanLevelTooHigh(
                f"You hold this plan at {found.level!r}: share it at that level or lower."
            )
        plan = found.plan
        grantee_org = await self._grantee(data, plan.organization_id)
        cross = grantee_org != plan.organization_id
        today = utcnow().date()
        expires_on = data.expires_on
        if expires_on is None and cross:
            expires_on = today + timedelta(days=DEFAULT_DAYS)
        if expires_on is not None and expires_on <= today:
            raise CarePlanShareInvalid(
                "expires_on must be a later day than today.",
                errors=[{"field": "expires_on", "in": "body", "message": "must be in the future"}],
            )
        now = utcnow()
        row = CarePlanShare(
            organization_id=plan.organization_id,
            plan_id=plan.id,
            grantee_user_id=data.user_id,
            grantee_organization_id=grantee_org,
            level=data.level.value,
            expires_at=None if expires_on is None else _end_of(expires_on),
            created_by=principal.user_id,
            accepted_at=None if cross else now,
            accepted_by=None if cross else principal.user_id,
        )
        await self.repository.add(row)
        context.describe_resource("care_plan_share", row.id)
        await watchers.announce(
            self.repository,
            plan,
            "care_plan.share",
            actor_id=principal.user_id,
            event=f"share:{row.id}",
            container=self.plans.container,
            also={data.user_id} if data.user_id is not None and not cross else set(),
        )
        return (await self._reads([row]))[0]

    async def _grantee(self, data: ShareCreate, owner: uuid.UUID) -> uuid.UUID:
        """The receiving organization; a pharmacy, a patient or an unknown id is refused."""
        pharmacy = "Care plans are shared with provider organizations only, never a pharmacy."
        if data.user_id is not None:
            user = await self.repository.user_global(data.user_id)
            org = (
                None
                if user is None
                else await self.repository.organization_global(user.organization_id)
            )
            if user is None or org is None or not user.is_active or not org.is_active:
                raise _invalid("user_id", "No active user with this id: check user_id.")
            if org.kind != policies.PROVIDER:
                raise _invalid("user_id", pharmacy)
            if not CLINICAL & set(user.roles):
                raise _invalid(
                    "user_id", "Plans are shared with clinicians: pick a doctor or nurse."
                )
            return org.id
        assert data.organization_id is not None
        org = await self.repository.organization_global(data.organization_id)
        if org is None or not org.is_active:
            raise _invalid("organization_id", "No organization with this id: check it.")
        if org.kind != policies.PROVIDER:
            raise _invalid("organization_id", pharmacy)
        if org.id == owner:
            raise _invalid("organization_id", "Your organization's clinicians already see it.")
        return org.id

    # listing

    async def of_plan(self, principal: Principal, plan_id: uuid.UUID) -> list[ShareRead]:
        found = await self.plans.find(principal, plan_id, "shares.list")
        if found.patient or found.foreign:
            raise PermissionDenied("The owning organization's clinicians list a plan's shares.")
        return await self._reads(await self.repository.shares_of_plan(found.plan.id))

    async def owned(self, principal: Principal) -> list[ShareRead]:
        context.describe_resource("care_plan_share")
        await self._clinician(principal)
        rows = await self.repository.live_shares_owned(principal.organization_id, utcnow())
        return await self._reads(rows)

    async def incoming(self, principal: Principal) -> list[ShareRead]:
        context.describe_resource("care_plan_share")
        await self._clinician(principal)
        rows = await self.repository.incoming_shares(
            principal.user_id, principal.organization_id, utcnow()
        )
        return await self._reads(rows)

    # changing

    async def accept(self, principal: Principal, share_id: uuid.UUID) -> ShareRead:
        share = await self._share(share_id)
        if share.organization_id == principal.organization_id:
            raise PermissionDenied("The organization a plan is shared with accepts the share.")
        if not await self._offered(principal, share):
            raise CarePlanShareNotFound(SHARE_NOT_FOUND)
        await self._clinician(principal)
        if share.accepted_at is None:
            share.accepted_at = utcnow()
            share.accepted_by = principal.user_id
            await self.session.flush()
            plan = await self.repository.get_global(share.plan_id)
            if plan is not None:
                await watchers.announce(
                    self.repository,
                    plan,
                    "care_plan.share",
                    actor_id=principal.user_id,
                    event=f"share:{share.id}:accepted",
                    container=self.plans.container,
                )
        return (await self._reads([share]))[0]

    async def change_expiry(
        self, principal: Principal, share_id: uuid.UUID, expires_on: date
    ) -> ShareRead:
        share = await self._owned(principal, share_id)
        if share.revoked_at is not None:
            raise CarePlanShareInvalid("This share was revoked: share the plan again instead.")
        if expires_on <= utcnow().date():
            raise _invalid("expires_on", "expires_on must be a later day than today.")
        share.expires_at = _end_of(expires_on)
        await self.session.flush()
        return (await self._reads([share]))[0]

    async def revoke(self, principal: Principal, share_id: uuid.UUID) -> ShareRead:
        share = await self._owned(principal, share_id)
        if share.revoked_at is None:
            share.revoked_at = utcnow()
            share.revoked_by = principal.user_id
            await self.session.flush()
        return (await self._reads([share]))[0]

    # helpers

    async def _clinician(self, principal: Principal) -> None:
        kind = await access.organization_kind(self.repository, principal)
        if not policies.is_clinician(principal, kind):
            raise PermissionDenied("Only clinicians of a provider organization handle shares.")

    async def _share(self, share_id: uuid.UUID) -> CarePlanShare:
        context.describe_resource("care_plan_share", share_id)
        share = await self.repository.share(share_id)
        if share is None:
            raise CarePlanShareNotFound(SHARE_NOT_FOUND)
        return share

    async def _offered(self, principal: Principal, share: CarePlanShare) -> bool:
        """Whether the share is live and offered to the principal or their organization."""
        incoming = await self.repository.incoming_shares(
            principal.user_id, principal.organization_id, utcnow()
        )
        return share in incoming

    async def _owned(self, principal: Principal, share_id: uuid.UUID) -> CarePlanShare:
        share = await self._share(share_id)
        if share.organization_id != principal.organization_id:
            if await self._offered(principal, share):
                raise PermissionDenied("The organization that owns the plan manages its shares.")
            raise CarePlanShareNotFound(SHARE_NOT_FOUND)
        await self._clinician(principal)
        return share

    async def _reads(self, rows: list[CarePlanShare]) -> list[ShareRead]:
        users = {row.grantee_user_id for row in rows if row.grantee_user_id}
        orgs = {row.grantee_organization_id for row in rows}
        names = await self.repository.names(users, orgs)
        now = utcnow()
        return [
            ShareRead(
                id=row.id,
                plan_id=row.plan_id,
                organization_id=row.organization_id,
                grantee_user_id=row.grantee_user_id,
                grantee_organization_id=row.grantee_organization_id,
                grantee_name=names.get(row.grantee_user_id or row.grantee_organization_id, ""),
                level=ShareLevel(row.level),
                state=_state(row, now),
                expires_at=row.expires_at,
                created_by=row.created_by,
                created_at=row.created_at,
                accepted_at=row.accepted_at,
                accepted_by=row.accepted_by,
                revoked_at=row.revoked_at,
                revoked_by=row.revoked_by,
            )
            for row in rows
        ]


def _invalid(field: str, message: str) -> CarePlanShareInvalid:
    return CarePlanShareInvalid(
        message, errors=[{"field": field, "in": "body", "message": message}]
    )
