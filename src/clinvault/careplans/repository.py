"""All SQL of care plans, every query scoped by the owning organization.

A change is written with a compare-and-set on the plan's version
(`UPDATE ... WHERE id = :id AND version = :based_on`), and versions are unique
per plan, so two concurrent updates based on one version cannot both win, on
either database.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.models.careplans import (
    CarePlan,
    CarePlanAttachment,
    CarePlanComment,
    CarePlanDigestEntry,
    CarePlanMailPreference,
    CarePlanShare,
    CarePlanVersion,
    CarePlanWatch,
)
from clinvault.models.identity import Organization, User
from clinvault.models.objects import EncryptedObject
from clinvault.models.records import Patient
from clinvault.timeutil import utcnow


class CarePlanRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: object) -> None:
        self.session.add(row)
        await self.session.flush()

    async def organization_global(self, organization_id: uuid.UUID) -> Organization | None:
        return await self.session.get(Organization, organization_id)

    async def user_global(self, user_id: uuid.UUID) -> User | None:
        return await self.session.get(User, user_id)

    async def patient(self, patient_id: uuid.UUID, *, tenant: uuid.UUID) -> Patient | None:
        row = await self.session.get(Patient, patient_id)
        return row if row is not None and row.organization_id == tenant else None

    async def patient_of_user(self, user_id: uuid.UUID, *, tenant: uuid.UUID) -> Patient | None:
        return (
            await self.session.execute(
                select(Patient).where(Patient.organization_id == tenant, Patient.user_id == user_id)
            )
        ).scalar_one_or_none()

    async def get(self, plan_id: uuid.UUID, *, tenant: uuid.UUID) -> CarePlan | None:
        return (
            await self.session.execute(
                select(CarePlan).where(CarePlan.id == plan_id, CarePlan.organization_id == tenant)
            )
        ).scalar_one_or_none()

    async def get_global(self, plan_id: uuid.UUID) -> CarePlan | None:
        """Any organization's plan: the caller checks tenant or share (`access.find`)."""
        return await self.session.get(CarePlan, plan_id)

    async def search(
        self,
        *,
        tenant: uuid.UUID,
        shared_to: uuid.UUID | None = None,
        patient_id: uuid.UUID | None,
        status: str | None,
        patient_only: bool,
        limit: int,
        offset: int,
    ) -> tuple[list[CarePlan], int]:
        owned: ColumnElement[bool] = CarePlan.organization_id == tenant
        if shared_to is not None:
            shared = select(CarePlanShare.plan_id).where(
                _live(shared_to, tenant, utcnow()), CarePlanShare.accepted_at.is_not(None)
            )
            owned = or_(owned, CarePlan.id.in_(shared))
        where = [owned]
        if patient_id is not None:
            where.append(CarePlan.patient_id == patient_id)
        if status is not None:
            where.append(CarePlan.status == status)
        if patient_only:
            where.append(CarePlan.shared_with_patient.is_(True))
        total = (
            await self.session.execute(select(func.count()).select_from(CarePlan).where(*where))
        ).scalar_one()
        rows = await self.session.execute(
            select(CarePlan)
            .where(*where)
            .order_by(CarePlan.updated_at.desc(), CarePlan.id)
            .limit(limit)
            .offset(offset)
        )
        return list(rows.scalars()), int(total)

    async def advance(
        self, plan: CarePlan, *, based_on: int, version: CarePlanVersion, user_id: uuid.UUID
    ) -> bool:
        """Make `version` the plan's current one, if the plan is still at `based_on`."""
        now = utcnow()
        result = await self.session.execute(
            update(CarePlan)
            .where(CarePlan.id == plan.id, CarePlan.version == based_on)
            .values(
                version=version.number,
                status=version.status,
                title=version.title,
                content=version.content,
                shared_with_patient=version.shared_with_patient,
                updated_by=user_id,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            return False
        self.session.add(version)
        await self.session.flush()
        await self.session.refresh(plan)
        return True

    async def versions(self, plan_id: uuid.UUID) -> list[CarePlanVersion]:
        rows = await self.session.execute(
            select(CarePlanVersion)
            .where(CarePlanVersion.plan_id == plan_id)
            .order_by(CarePlanVersion.number)
        )
        return list(rows.scalars())

    async def version(self, plan_id: uuid.UUID, number: int) -> CarePlanVersion | None:
        return (
            await self.session.execute(
                select(CarePlanVersion).where(
                    CarePlanVersion.plan_id == plan_id, CarePlanVersion.number == number
                )
            )
        ).scalar_one_or_none()

    # shares

    async def live_share_levels(
        self, plan_id: uuid.UUID, *, user_id: uuid.UUID, organization_id: uuid.UUID, now: datetime
    ) -> list[str]:
        """The levels of the accepted, live shares of the plan to this user or organization."""
        rows = await self.session.execute(
            select(CarePlanShare.level).where(
                CarePlanShare.plan_id == plan_id,
                CarePlanShare.accepted_at.is_not(None),
                _live(user_id, organization_id, now),
            )
        )
        return [row[0] for row in rows]

    async def share(self, share_id: uuid.UUID) -> CarePlanShare | None:
        return await self.session.get(CarePlanShare, share_id)

    async def shares_of_plan(self, plan_id: uuid.UUID) -> list[CarePlanShare]:
        rows = await self.session.execute(
            select(CarePlanShare)
            .where(CarePlanShare.plan_id == plan_id)
            .order_by(CarePlanShare.created_at, CarePlanShare.id)
        )
        return list(rows.scalars())

    async def live_shares_owned(self, tenant: uuid.UUID, now: datetime) -> list[CarePlanShare]:
        """Every live share (pending or accepted) of the organization's plans."""
        rows = await self.session.execute(
            select(CarePlanShare)
            .where(
                CarePlanShare.organization_id == tenant,
                CarePlanShare.revoked_at.is_(None),
                or_(CarePlanShare.expires_at.is_(None), CarePlanShare.expires_at > now),
            )
            .order_by(CarePlanShare.created_at, CarePlanShare.id)
        )
        return list(rows.scalars())

    async def incoming_shares(
        self, user_id: uuid.UUID, organization_id: uuid.UUID, now: datetime
    ) -> list[CarePlanShare]:
        rows = await self.session.execute(
            select(CarePlanShare)
            .where(
                _live(user_id, organization_id, now),
                CarePlanShare.organization_id != organization_id,
            )
            .order_by(CarePlanShare.created_at, CarePlanShare.id)
        )
        return list(rows.scalars())

    async def names(
        self, user_ids: set[uuid.UUID], org_ids: set[uuid.UUID]
    ) -> dict[uuid.UUID, str]:
        found: dict[uuid.UUID, str] = {}
        if user_ids:
            rows = await self.session.execute(
                select(User.id, User.display_name).where(User.id.in_(user_ids))
            )
            found.update({row[0]: row[1] for row in rows})
        if org_ids:
            rows = await self.session.execute(
                select(Organization.id, Organization.name).where(Organization.id.in_(org_ids))
            )
            found.update({row[0]: row[1] for row in rows})
        return found

    # comments

    async def comments(self, plan_id: uuid.UUID) -> list[CarePlanComment]:
        rows = await self.session.execute(
            select(CarePlanComment)
            .where(CarePlanComment.plan_id == plan_id)
            .order_by(CarePlanComment.created_at, CarePlanComment.id)
        )
        return list(rows.scalars())

    async def comment(self, comment_id: uuid.UUID) -> CarePlanComment | None:
        return await self.session.get(CarePlanComment, comment_id)

    # watchers

    async def watch(self, plan_id: uuid.UUID, user_id: uuid.UUID) -> CarePlanWatch | None:
        return (
            await self.session.execute(
                select(CarePlanWatch).where(
                    CarePlanWatch.plan_id == plan_id, CarePlanWatch.user_id == user_id
                )
            )
        ).scalar_one_or_none()

    async def watches(self, plan_id: uuid.UUID) -> dict[uuid.UUID, bool]:
        rows = await self.session.execute(
            select(CarePlanWatch.user_id, CarePlanWatch.watching).where(
                CarePlanWatch.plan_id == plan_id
            )
        )
        return {row[0]: row[1] for row in rows}

    async def implicit_watchers(self, plan: CarePlan, now: datetime) -> set[uuid.UUID]:
        """The author, the users of live accepted shares, and everyone who commented."""
        found: set[uuid.UUID] = set()
        if plan.author_id is not None:
            found.add(plan.author_id)
        shares = await self.session.execute(
            select(CarePlanShare.grantee_user_id, CarePlanShare.accepted_by).where(
                CarePlanShare.plan_id == plan.id,
                CarePlanShare.accepted_at.is_not(None),
                CarePlanShare.revoked_at.is_(None),
                or_(CarePlanShare.expires_at.is_(None), CarePlanShare.expires_at > now),
            )
        )
        for grantee, accepted_by in shares:
            found.update(uid for uid in (grantee or accepted_by,) if uid is not None)
        authors = await self.session.execute(
            select(CarePlanComment.author_id).where(CarePlanComment.plan_id == plan.id).distinct()
        )
        found.update(row[0] for row in authors if row[0] is not None)
        return found

    # attachments

    async def attachments(self, plan_id: uuid.UUID) -> list[CarePlanAttachment]:
        rows = await self.session.execute(
            select(CarePlanAttachment)
            .where(CarePlanAttachment.plan_id == plan_id)
            .order_by(CarePlanAttachment.created_at, CarePlanAttachment.id)
        )
        return list(rows.scalars())

    async def attachment(
        self, plan_id: uuid.UUID, attachment_id: uuid.UUID
    ) -> CarePlanAttachment | None:
        row = await self.session.get(CarePlanAttachment, attachment_id)
        return row if row is not None and row.plan_id == plan_id else None

    async def stored_object(
        self, object_id: uuid.UUID, *, tenant: uuid.UUID
    ) -> EncryptedObject | None:
        row = await self.session.get(EncryptedObject, object_id)
        return row if row is not None and row.organization_id == tenant else None

    # email delivery: preferences and the daily digest

    async def mail_preference(self, user_id: uuid.UUID) -> CarePlanMailPreference | None:
        return await self.session.scalar(
            select(CarePlanMailPreference).where(CarePlanMailPreference.user_id == user_id)
        )

    async def digest_due_users(self, cutoff: datetime) -> list[uuid.UUID]:
        """Users with entries created before `cutoff` that no digest listed yet."""
        rows = await self.session.execute(
            select(CarePlanDigestEntry.user_id)
            .where(
                CarePlanDigestEntry.digest_key.is_(None), CarePlanDigestEntry.created_at < cutoff
            )
            .distinct()
        )
        return sorted(row[0] for row in rows)

    async def pick_digest(
        self, user_id: uuid.UUID, key: str, cutoff: datetime, now: datetime
    ) -> int:
        """Mark the user's waiting entries as listed in digest `key`, unless that digest
        already exists (a second run on one day: they wait for the next)."""
        taken = await self.session.scalar(
            select(func.count())
            .select_from(CarePlanDigestEntry)
            .where(CarePlanDigestEntry.digest_key == key)
        )
        if taken:
            return 0
        result = await self.session.execute(
            update(CarePlanDigestEntry)
            .where(
                CarePlanDigestEntry.user_id == user_id,
                CarePlanDigestEntry.digest_key.is_(None),
                CarePlanDigestEntry.created_at < cutoff,
            )
            .values(digest_key=key, digested_at=now)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0))

    async def unmailed_digests(self) -> list[tuple[uuid.UUID, str]]:
        rows = await self.session.execute(
            select(CarePlanDigestEntry.user_id, CarePlanDigestEntry.digest_key)
            .where(
                CarePlanDigestEntry.digest_key.is_not(None), CarePlanDigestEntry.mailed_at.is_(None)
            )
            .distinct()
        )
        return sorted((row[0], str(row[1])) for row in rows)

    async def digest_entries(self, key: str) -> list[CarePlanDigestEntry]:
        rows = await self.session.execute(
            select(CarePlanDigestEntry)
            .where(CarePlanDigestEntry.digest_key == key)
            .order_by(CarePlanDigestEntry.created_at, CarePlanDigestEntry.id)
        )
        return list(rows.scalars())

    async def mark_digest_mailed(self, key: str, now: datetime) -> None:
        await self.session.execute(
            update(CarePlanDigestEntry)
            .where(CarePlanDigestEntry.digest_key == key, CarePlanDigestEntry.mailed_at.is_(None))
            .values(mailed_at=now)
            .execution_options(synchronize_session=False)
        )


def _live(user_id: uuid.UUID, organization_id: uuid.UUID, now: datetime) -> ColumnElement[bool]:
    """Shares to this user, or to their organization as a whole, neither revoked nor expired."""
    return and_(
        or_(
            CarePlanShare.grantee_user_id == user_id,
            and_(
                CarePlanShare.grantee_user_id.is_(None),
                CarePlanShare.grantee_organization_id == organization_id,
            ),
        ),
        CarePlanShare.revoked_at.is_(None),
        or_(CarePlanShare.expires_at.is_(None), CarePlanShare.expires_at > now),
    )
