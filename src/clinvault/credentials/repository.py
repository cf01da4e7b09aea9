"""All SQL of the credentials feature; every query takes its tenant.

Lookups named `*_global` serve workflow steps and the daily expiry job, which
act for the system and start from an id they were given.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import Select, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.models.credentials import (
    CredentialCategory,
    CredentialDocument,
    CredentialReminder,
    CredentialSubmission,
    PractitionerProfile,
)
from clinvault.models.identity import Organization, User
from clinvault.models.objects import EncryptedObject

PENDING = ("submitted", "in_review")
TRACKED_FOR_EXPIRY = ("submitted", "in_review", "verified")

DocumentRow = tuple[CredentialDocument, EncryptedObject, CredentialSubmission]


def _documents() -> Select[CredentialDocument, EncryptedObject, CredentialSubmission]:
    return (
        select(CredentialDocument, EncryptedObject, CredentialSubmission)
        .join(EncryptedObject, EncryptedObject.id == CredentialDocument.object_id)
        .join(CredentialSubmission, CredentialSubmission.id == CredentialDocument.submission_id)
    )


class CredentialRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_all(self, rows: Sequence[object]) -> None:
        self.session.add_all(rows)
        await self.session.flush()

    # profiles and categories

    async def profile(self, user_id: uuid.UUID, *, tenant: uuid.UUID) -> PractitionerProfile | None:
        result: PractitionerProfile | None = await self.session.scalar(
            select(PractitionerProfile).where(
                PractitionerProfile.user_id == user_id,
                PractitionerProfile.organization_id == tenant,
            )
        )
        return result

    async def npi_held_by_other_global(self, npi: str, *, user_id: uuid.UUID) -> bool:
        """Whether another practitioner, in any organization, holds `npi` (NPIs are unique)."""
        return bool(
            await self.session.scalar(
                select(
                    exists().where(
                        PractitionerProfile.npi == npi, PractitionerProfile.user_id != user_id
                    )
                )
            )
        )

    async def categories(self, *, tenant: uuid.UUID) -> Sequence[CredentialCategory]:
        query = select(CredentialCategory).where(CredentialCategory.organization_id == tenant)
        return (await self.session.scalars(query.order_by(CredentialCategory.code))).all()

    # submissions and documents

    async def reference_taken_global(self, reference: str) -> bool:
        return bool(
            await self.session.scalar(
                select(exists().where(CredentialSubmission.reference == reference))
            )
        )

    async def pending_count(self, *, tenant: uuid.UUID) -> int:
        count = await self.session.scalar(
            select(func.count())
            .select_from(CredentialDocument)
            .where(
                CredentialDocument.organization_id == tenant,
                CredentialDocument.status.in_(PENDING),
                CredentialDocument.is_current.is_(True),
            )
        )
        return int(count or 0)

    async def submission_by_reference(
        self, reference: str, *, tenant: uuid.UUID
    ) -> CredentialSubmission | None:
        result: CredentialSubmission | None = await self.session.scalar(
            select(CredentialSubmission).where(
                CredentialSubmission.reference == reference,
                CredentialSubmission.organization_id == tenant,
            )
        )
        return result

    async def submission_global(self, submission_id: uuid.UUID) -> CredentialSubmission | None:
        return await self.session.get(CredentialSubmission, submission_id)

    async def document(
        self, document_id: uuid.UUID, *, tenant: uuid.UUID, lock: bool = False
    ) -> DocumentRow | None:
        query = _documents().where(
            CredentialDocument.id == document_id, CredentialDocument.organization_id == tenant
        )
        if lock:
            query = query.with_for_update(of=CredentialDocument)
        row = (await self.session.execute(query)).first()
        return None if row is None else (row[0], row[1], row[2])

    async def documents_of_submission(
        self, submission_id: uuid.UUID, *, tenant: uuid.UUID
    ) -> list[DocumentRow]:
        query = _documents().where(
            CredentialDocument.submission_id == submission_id,
            CredentialDocument.organization_id == tenant,
        )
        rows = await self.session.execute(
            query.order_by(CredentialDocument.created_at, CredentialDocument.id)
        )
        return [(row[0], row[1], row[2]) for row in rows]

    async def documents_by_ids_global(self, document_ids: Sequence[uuid.UUID]) -> list[DocumentRow]:
        rows = await self.session.execute(
            _documents()
            .where(CredentialDocument.id.in_(document_ids))
            .order_by(CredentialDocument.created_at, CredentialDocument.id)
        )
        return [(row[0], row[1], row[2]) for row in rows]

    async def documents_of_practitioner(
        self, practitioner_id: uuid.UUID, *, tenant: uuid.UUID
    ) -> list[DocumentRow]:
        rows = await self.session.execute(
            _documents()
            .where(
                CredentialDocument.practitioner_id == practitioner_id,
                CredentialDocument.organization_id == tenant,
            )
            .order_by(CredentialDocument.created_at, CredentialDocument.id)
        )
        return [(row[0], row[1], row[2]) for row in rows]

    async def queue(
        self,
        *,
        tenant: uuid.UUID,
        statuses: Sequence[str],
        category: str | None,
        practitioner_id: uuid.UUID | None,
        limit: int,
        offset: int,
    ) -> tuple[list[DocumentRow], int]:
        conditions = [
            CredentialDocument.organization_id == tenant,
            CredentialDocument.status.in_(statuses),
            CredentialDocument.is_current.is_(True),
        ]
        if category is not None:
            conditions.append(CredentialDocument.category == category)
        if practitioner_id is not None:
            conditions.append(CredentialDocument.practitioner_id == practitioner_id)
        total = await self.session.scalar(
            select(func.count()).select_from(CredentialDocument).where(*conditions)
        )
        rows = await self.session.execute(
            _documents()
            .where(*conditions)
            .order_by(CredentialDocument.created_at, CredentialDocument.id)
            .limit(limit)
            .offset(offset)
        )
        return [(row[0], row[1], row[2]) for row in rows], int(total or 0)

    async def expiring(
        self, *, tenant: uuid.UUID, until: date, practitioner_id: uuid.UUID | None
    ) -> list[DocumentRow]:
        query = _documents().where(
            CredentialDocument.organization_id == tenant,
            CredentialDocument.is_current.is_(True),
            CredentialDocument.status.in_(TRACKED_FOR_EXPIRY),
            CredentialDocument.expires_on.is_not(None),
            CredentialDocument.expires_on <= until,
        )
        if practitioner_id is not None:
            query = query.where(CredentialDocument.practitioner_id == practitioner_id)
        rows = await self.session.execute(
            query.order_by(CredentialDocument.expires_on, CredentialDocument.id)
        )
        return [(row[0], row[1], row[2]) for row in rows]

    async def current_of_practitioners(
        self, practitioner_ids: Sequence[uuid.UUID], *, tenant: uuid.UUID
    ) -> list[CredentialDocument]:
        """The current documents of these practitioners (for their completeness)."""
        if not practitioner_ids:
            return []
        rows = await self.session.scalars(
            select(CredentialDocument)
            .where(
                CredentialDocument.organization_id == tenant,
                CredentialDocument.practitioner_id.in_(practitioner_ids),
                CredentialDocument.is_current.is_(True),
            )
            .order_by(CredentialDocument.created_at, CredentialDocument.id)
        )
        return list(rows)

    async def verified_expiring(
        self, *, tenant: uuid.UUID, until: date, category: str | None
    ) -> list[DocumentRow]:
        query = _documents().where(
            CredentialDocument.organization_id == tenant,
            CredentialDocument.is_current.is_(True),
            CredentialDocument.status == "verified",
            CredentialDocument.expires_on.is_not(None),
            CredentialDocument.expires_on <= until,
        )
        if category is not None:
            query = query.where(CredentialDocument.category == category)
        rows = await self.session.execute(
            query.order_by(CredentialDocument.expires_on, CredentialDocument.id)
        )
        return [(row[0], row[1], row[2]) for row in rows]

    async def people(
        self, user_ids: Sequence[uuid.UUID], *, tenant: uuid.UUID
    ) -> list[tuple[User, PractitionerProfile | None]]:
        """Members of the organization with their practitioner profile, if any."""
        if not user_ids:
            return []
        rows = await self.session.execute(
            select(User, PractitionerProfile)
            .outerjoin(PractitionerProfile, PractitionerProfile.user_id == User.id)
            .where(User.organization_id == tenant, User.id.in_(user_ids))
        )
        return [(row[0], row[1]) for row in rows]

    async def supersede(self, document_id: uuid.UUID, *, tenant: uuid.UUID) -> None:
        await self.session.execute(
            update(CredentialDocument)
            .where(
                CredentialDocument.id == document_id, CredentialDocument.organization_id == tenant
            )
            .values(is_current=False)
        )

    async def mark_escalated_global(self, submission_id: uuid.UUID, now: datetime) -> None:
        await self.session.execute(
            update(CredentialSubmission)
            .where(CredentialSubmission.id == submission_id)
            .values(escalated_at=now)
        )

    # people

    async def members_with_role_global(self, organization_id: uuid.UUID, role: str) -> list[User]:
        rows = await self.session.scalars(
            select(User).where(User.organization_id == organization_id, User.is_active.is_(True))
        )
        return [user for user in rows if role in (user.roles or [])]

    async def user_global(self, user_id: uuid.UUID) -> User | None:
        return await self.session.get(User, user_id)

    async def organization_global(self, organization_id: uuid.UUID) -> Organization | None:
        return await self.session.get(Organization, organization_id)

    # expiry

    async def tracked_for_expiry_global(self, until: date) -> list[CredentialDocument]:
        rows = await self.session.scalars(
            select(CredentialDocument)
            .where(
                CredentialDocument.is_current.is_(True),
                CredentialDocument.status.in_(TRACKED_FOR_EXPIRY),
                CredentialDocument.expires_on.is_not(None),
                CredentialDocument.expires_on <= until,
            )
            .order_by(CredentialDocument.id)
            .with_for_update()
        )
        return list(rows)

    async def reminder_recorded_global(self, document_id: uuid.UUID, days_before: int) -> bool:
        return bool(
            await self.session.scalar(
                select(
                    exists().where(
                        CredentialReminder.document_id == document_id,
                        CredentialReminder.days_before == days_before,
                    )
                )
            )
        )

    async def unmailed_reminders_global(self) -> list[CredentialReminder]:
        rows = await self.session.scalars(
            select(CredentialReminder)
            .where(CredentialReminder.mailed_at.is_(None))
            .order_by(CredentialReminder.id)
        )
        return list(rows)

    async def mark_reminder_mailed_global(self, reminder_id: uuid.UUID, now: datetime) -> None:
        await self.session.execute(
            update(CredentialReminder)
            .where(CredentialReminder.id == reminder_id)
            .values(mailed_at=now)
        )

    async def review_starts_global(
        self,
    ) -> list[tuple[str, uuid.UUID, list[uuid.UUID], date]]:
        """Per review workflow with documents still waiting: its id and start arguments."""
        rows = await self.session.execute(
            select(
                CredentialDocument.review_workflow_id,
                CredentialDocument.submission_id,
                CredentialDocument.id,
                CredentialSubmission.estimated_review_by,
            )
            .join(CredentialSubmission, CredentialSubmission.id == CredentialDocument.submission_id)
            .where(CredentialDocument.status.in_(PENDING))
            .order_by(CredentialDocument.id)
        )
        grouped: dict[str, tuple[str, uuid.UUID, list[uuid.UUID], date]] = {}
        for workflow_id, submission_id, document_id, review_by in rows:
            entry = grouped.setdefault(workflow_id, (workflow_id, submission_id, [], review_by))
            entry[2].append(document_id)
        return list(grouped.values())
