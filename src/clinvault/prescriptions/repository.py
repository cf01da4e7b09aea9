"""All SQL of prescriptions. Provider queries are scoped by the owning organization;
pharmacy queries go through a live grant of the pharmacy organization.

A transition is written with a compare-and-set on the row version
(`UPDATE ... WHERE id = :id AND version = :read`), so two pharmacies racing
for one fill cannot both win, on either database.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.models.credentials import CredentialDocument, PractitionerProfile
from clinvault.models.identity import Organization, User
from clinvault.models.objects import EncryptedObject
from clinvault.models.prescriptions import (
    PharmacyProfile,
    Prescription,
    PrescriptionDispense,
    PrescriptionEvent,
    PrescriptionFill,
    PrescriptionGrant,
    PrescriptionPolicy,
)
from clinvault.models.records import Patient
from clinvault.timeutil import utcnow

DEA_CATEGORY = "dea_registration"
PharmacyRow = tuple[Organization, PharmacyProfile | None]


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class PrescriptionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: object) -> None:
        self.session.add(row)
        await self.session.flush()

    # organizations, people, policy

    async def organization_global(self, organization_id: uuid.UUID) -> Organization | None:
        return await self.session.get(Organization, organization_id)

    async def organizations_global(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
        if not ids:
            return {}
        rows = await self.session.execute(
            select(Organization.id, Organization.name).where(Organization.id.in_(set(ids)))
        )
        return {row[0]: row[1] for row in rows}

    async def pharmacy_global(self, organization_id: uuid.UUID) -> PharmacyRow | None:
        row = (
            await self.session.execute(
                select(Organization, PharmacyProfile)
                .outerjoin(PharmacyProfile, PharmacyProfile.organization_id == Organization.id)
                .where(
                    Organization.id == organization_id,
                    Organization.kind == "pharmacy",
                    Organization.is_active.is_(True),
                )
            )
        ).first()
        return None if row is None else (row[0], row[1])

    async def search_pharmacies_global(self, folded: str, limit: int) -> list[PharmacyRow]:
        pattern = f"%{_escape_like(folded)}%"
        rows = await self.session.execute(
            select(Organization, PharmacyProfile)
            .outerjoin(PharmacyProfile, PharmacyProfile.organization_id == Organization.id)
            .where(
                Organization.kind == "pharmacy",
                Organization.is_active.is_(True),
                or_(
                    func.lower(Organization.name).like(pattern, escape="\\"),
                    PharmacyProfile.city_folded.like(pattern, escape="\\"),
                ),
            )
            .order_by(Organization.name, Organization.id)
            .limit(limit)
        )
        return [(row[0], row[1]) for row in rows]

    async def pharmacy_profile_global(self, organization_id: uuid.UUID) -> PharmacyProfile | None:
        found: PharmacyProfile | None = await self.session.scalar(
            select(PharmacyProfile).where(PharmacyProfile.organization_id == organization_id)
        )
        return found

    async def policy(self, *, tenant: uuid.UUID) -> PrescriptionPolicy | None:
        return await self.session.get(PrescriptionPolicy, tenant)

    async def member(self, user_id: uuid.UUID, *, tenant: uuid.UUID) -> User | None:
        found: User | None = await self.session.scalar(
            select(User).where(User.id == user_id, User.organization_id == tenant)
        )
        return found

    async def users_global(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, User]:
        if not ids:
            return {}
        rows = await self.session.scalars(select(User).where(User.id.in_(set(ids))))
        return {row.id: row for row in rows}

    async def patient(self, patient_id: uuid.UUID, *, tenant: uuid.UUID) -> Patient | None:
        found: Patient | None = await self.session.scalar(
            select(Patient).where(Patient.id == patient_id, Patient.organization_id == tenant)
        )
        return found

    async def practitioner_profile(
        self, user_id: uuid.UUID, *, tenant: uuid.UUID
    ) -> PractitionerProfile | None:
        found: PractitionerProfile | None = await self.session.scalar(
            select(PractitionerProfile).where(
                PractitionerProfile.user_id == user_id,
                PractitionerProfile.organization_id == tenant,
            )
        )
        return found

    async def npi(self, user_id: uuid.UUID, *, tenant: uuid.UUID) -> str | None:
        found: str | None = await self.session.scalar(
            select(PractitionerProfile.npi).where(
                PractitionerProfile.user_id == user_id,
                PractitionerProfile.organization_id == tenant,
            )
        )
        return found

    async def dea_registrations(
        self, user_id: uuid.UUID, *, tenant: uuid.UUID
    ) -> Sequence[CredentialDocument]:
        """The prescriber's current DEA registration documents, newest first."""
        rows = await self.session.scalars(
            select(CredentialDocument)
            .where(
                CredentialDocument.practitioner_id == user_id,
                CredentialDocument.organization_id == tenant,
                CredentialDocument.category == DEA_CATEGORY,
                CredentialDocument.is_current.is_(True),
            )
            .order_by(CredentialDocument.created_at.desc(), CredentialDocument.id.desc())
        )
        return rows.all()

    async def number_taken_global(self, number: str) -> bool:
        found = await self.session.scalar(
            select(Prescription.id).where(Prescription.number == number)
        )
        return found is not None

    # prescriptions

    async def get(self, prescription_id: uuid.UUID, *, tenant: uuid.UUID) -> Prescription | None:
        found: Prescription | None = await self.session.scalar(
            select(Prescription).where(
                Prescription.id == prescription_id, Prescription.organization_id == tenant
            )
        )
        return found

    async def stored_object(
        self, object_id: uuid.UUID, *, tenant: uuid.UUID
    ) -> EncryptedObject | None:
        """The encrypted object of a scanned document, in the prescription's tenant."""
        found: EncryptedObject | None = await self.session.scalar(
            select(EncryptedObject).where(
                EncryptedObject.id == object_id, EncryptedObject.organization_id == tenant
            )
        )
        return found

    async def get_granted(
        self, prescription_id: uuid.UUID, *, grantee: uuid.UUID
    ) -> tuple[Prescription, PrescriptionGrant] | None:
        """The prescription through the pharmacy's live grant, else None."""
        row = (
            await self.session.execute(
                select(Prescription, PrescriptionGrant)
                .join(PrescriptionGrant, PrescriptionGrant.prescription_id == Prescription.id)
                .where(
                    Prescription.id == prescription_id,
                    PrescriptionGrant.grantee_organization_id == grantee,
                    PrescriptionGrant.revoked_at.is_(None),
                )
            )
        ).first()
        return None if row is None else (row[0], row[1])

    async def get_global(self, prescription_id: uuid.UUID) -> Prescription | None:
        return await self.session.get(Prescription, prescription_id)

    async def refresh(self, prescription: Prescription) -> None:
        await self.session.refresh(prescription)

    async def list_for_tenant(
        self,
        *,
        tenant: uuid.UUID,
        patient_id: uuid.UUID | None,
        status: str | None,
        limit: int,
        offset: int,
    ) -> Sequence[Prescription]:
        query = select(Prescription).where(Prescription.organization_id == tenant)
        if patient_id is not None:
            query = query.where(Prescription.patient_id == patient_id)
        if status is not None:
            query = query.where(Prescription.status == status)
        query = query.order_by(Prescription.created_at.desc(), Prescription.id.desc())
        return (await self.session.scalars(query.limit(limit).offset(offset))).all()

    async def queue(
        self, *, grantee: uuid.UUID, statuses: Sequence[str], fill_statuses: Sequence[str]
    ) -> Sequence[Prescription]:
        query = (
            select(Prescription)
            .join(PrescriptionGrant, PrescriptionGrant.prescription_id == Prescription.id)
            .where(
                PrescriptionGrant.grantee_organization_id == grantee,
                PrescriptionGrant.revoked_at.is_(None),
                Prescription.status.in_(statuses),
                Prescription.fill_status.in_(fill_statuses),
            )
            .order_by(Prescription.updated_at.desc(), Prescription.id)
            .limit(200)
        )
        return (await self.session.scalars(query)).all()

    async def declined_by(self, *, grantee: uuid.UUID) -> Sequence[Prescription]:
        """Prescriptions whose fill this pharmacy declined last (the rejected tab)."""
        latest = (
            select(
                PrescriptionEvent.prescription_id,
                func.max(PrescriptionEvent.occurred_at).label("at"),
            )
            .where(PrescriptionEvent.action.in_(("decline", "change-pharmacy", "claim")))
            .group_by(PrescriptionEvent.prescription_id)
            .subquery()
        )
        query = (
            select(Prescription)
            .join(latest, latest.c.prescription_id == Prescription.id)
            .join(
                PrescriptionEvent,
                (PrescriptionEvent.prescription_id == Prescription.id)
                & (PrescriptionEvent.occurred_at == latest.c.at),
            )
            .join(PrescriptionGrant, PrescriptionGrant.prescription_id == Prescription.id)
            .where(
                PrescriptionEvent.action == "decline",
                PrescriptionEvent.acting_organization_id == grantee,
                PrescriptionGrant.grantee_organization_id == grantee,
                PrescriptionGrant.revoked_at.is_(None),
            )
            .order_by(Prescription.updated_at.desc())
            .limit(200)
        )
        return (await self.session.scalars(query)).all()

    async def compare_and_set(
        self, prescription: Prescription, read_version: int, values: dict[str, Any]
    ) -> bool:
        """Write `values` only if the row still has `read_version`; bump the version."""
        result = await self.session.execute(
            update(Prescription)
            .where(Prescription.id == prescription.id, Prescription.version == read_version)
            .values(**values, version=read_version + 1, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        won = bool(getattr(result, "rowcount", 0) == 1)
        if won:
            await self.session.refresh(prescription)
        return won

    # fills, dispenses, history, grants

    async def fills(self, prescription_id: uuid.UUID) -> Sequence[PrescriptionFill]:
        rows = await self.session.scalars(
            select(PrescriptionFill)
            .where(PrescriptionFill.prescription_id == prescription_id)
            .order_by(PrescriptionFill.sequence)
        )
        return rows.all()

    async def current_fill(self, prescription_id: uuid.UUID) -> PrescriptionFill | None:
        found: PrescriptionFill | None = await self.session.scalar(
            select(PrescriptionFill)
            .where(PrescriptionFill.prescription_id == prescription_id)
            .order_by(PrescriptionFill.sequence.desc())
            .limit(1)
        )
        return found

    async def dispenses(self, prescription_id: uuid.UUID) -> Sequence[PrescriptionDispense]:
        rows = await self.session.scalars(
            select(PrescriptionDispense)
            .where(PrescriptionDispense.prescription_id == prescription_id)
            .order_by(PrescriptionDispense.created_at, PrescriptionDispense.id)
        )
        return rows.all()

    async def events(self, prescription_id: uuid.UUID) -> Sequence[PrescriptionEvent]:
        rows = await self.session.scalars(
            select(PrescriptionEvent)
            .where(PrescriptionEvent.prescription_id == prescription_id)
            .order_by(PrescriptionEvent.occurred_at, PrescriptionEvent.id)
        )
        return rows.all()

    async def grant(
        self, prescription_id: uuid.UUID, grantee: uuid.UUID
    ) -> PrescriptionGrant | None:
        found: PrescriptionGrant | None = await self.session.scalar(
            select(PrescriptionGrant).where(
                PrescriptionGrant.prescription_id == prescription_id,
                PrescriptionGrant.grantee_organization_id == grantee,
            )
        )
        return found

    async def pharmacy_dispensed(self, prescription_id: uuid.UUID, pharmacy: uuid.UUID) -> bool:
        found = await self.session.scalar(
            select(PrescriptionDispense.id)
            .where(
                PrescriptionDispense.prescription_id == prescription_id,
                PrescriptionDispense.pharmacy_id == pharmacy,
            )
            .limit(1)
        )
        return found is not None

    async def members_with_role_global(self, organization_id: uuid.UUID, role: str) -> list[User]:
        rows = await self.session.scalars(
            select(User).where(User.organization_id == organization_id, User.is_active.is_(True))
        )
        return [user for user in rows if role in user.roles]

    async def patient_user_global(self, patient_id: uuid.UUID) -> User | None:
        found: User | None = await self.session.scalar(
            select(User).join(Patient, Patient.user_id == User.id).where(Patient.id == patient_id)
        )
        return found

    async def patient_of_user(self, user_id: uuid.UUID, *, tenant: uuid.UUID) -> Patient | None:
        found: Patient | None = await self.session.scalar(
            select(Patient).where(Patient.user_id == user_id, Patient.organization_id == tenant)
        )
        return found
