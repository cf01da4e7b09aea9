"""Prescriptions (FHIR MedicationRequest), their fills and dispenses (MedicationDispense),
the history of every transition, the grants that route one to a pharmacy, the
pharmacy directory entries and the per-organization prescribing policy.

Medication, directions and notes are PHI: `EncryptedString`. Quantities are
stored in thousandths of the unit (integers), so that sums and comparisons
are exact on every database.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from clinvault.crypto.fields import EncryptedString
from clinvault.models.base import Base, CreatedMixin, IdMixin
from clinvault.timeutil import utcnow


class PharmacyProfile(IdMixin, CreatedMixin, Base):
    """The public directory entry of a pharmacy organization: name, address, phone."""

    __tablename__ = "pharmacy_profiles"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), unique=True
    )
    address_line: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    city_folded: Mapped[str] = mapped_column(String(100), default="", index=True)
    postal_code: Mapped[str] = mapped_column(String(20), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")


class PrescriptionPolicy(Base):
    """An organization's own prescribing defaults (absent: the built-in defaults)."""

    __tablename__ = "prescription_policies"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    default_validity_days: Mapped[int] = mapped_column(Integer)
    schedule_v_max_refills: Mapped[int] = mapped_column(Integer)
    schedule_v_max_days: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Prescription(IdMixin, CreatedMixin, Base):
    __tablename__ = "prescriptions"
    __table_args__ = (
        Index("ix_prescriptions_patient", "organization_id", "patient_id", "created_at"),
        Index("ix_prescriptions_pharmacy", "pharmacy_id", "status"),
        CheckConstraint(
            "dispensed_milli >= 0 AND dispensed_milli <= quantity_milli * (1 + refills_allowed)",
            name="dispensed_within_authorised",
        ),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT")
    )
    number: Mapped[str] = mapped_column(String(16), unique=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="RESTRICT"))
    prescriber_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    pharmacy_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT")
    )
    medication_name: Mapped[str] = mapped_column(EncryptedString("prescriptions.medication_name"))
    medication_strength: Mapped[str] = mapped_column(
        EncryptedString("prescriptions.medication_strength")
    )
    dose_form: Mapped[str] = mapped_column(EncryptedString("prescriptions.dose_form"))
    rxnorm_code: Mapped[str | None] = mapped_column(EncryptedString("prescriptions.rxnorm_code"))
    directions: Mapped[str] = mapped_column(EncryptedString("prescriptions.directions"))
    notes: Mapped[str | None] = mapped_column(EncryptedString("prescriptions.notes"))
    quantity_milli: Mapped[int] = mapped_column(BigInteger)
    """Per fill, in thousandths of `unit`."""
    unit: Mapped[str] = mapped_column(String(16))
    days_supply: Mapped[int] = mapped_column(Integer)
    refills_allowed: Mapped[int] = mapped_column(Integer)
    substitution_allowed: Mapped[bool] = mapped_column(Boolean, default=True)
    schedule: Mapped[str] = mapped_column(String(4), default="none")
    valid_until: Mapped[date] = mapped_column(Date)
    earliest_fill_on: Mapped[date | None] = mapped_column(Date)
    document_object_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("encrypted_objects.id", ondelete="RESTRICT"), unique=True
    )
    document_filename: Mapped[str | None] = mapped_column(
        EncryptedString("prescriptions.document_filename")
    )
    document_content_type: Mapped[str | None] = mapped_column(String(127))
    status: Mapped[str] = mapped_column(String(20), default="draft")
    fill_status: Mapped[str] = mapped_column(String(20), default="none")
    fills_released: Mapped[int] = mapped_column(Integer, default=0)
    dispensed_milli: Mapped[int] = mapped_column(BigInteger, default=0)
    """Total dispensed over every fill."""
    version: Mapped[int] = mapped_column(Integer, default=1)
    """Row version: every transition increments it and checks the one it read."""
    signed_at: Mapped[datetime | None] = mapped_column()
    signed_with_second_factor: Mapped[bool] = mapped_column(Boolean, default=False)
    verification_generation: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PrescriptionFill(IdMixin, CreatedMixin, Base):
    """One authorised supply (the first fill or a refill) and who holds it."""

    __tablename__ = "prescription_fills"
    __table_args__ = (
        UniqueConstraint("prescription_id", "sequence"),
        CheckConstraint(
            "dispensed_milli >= 0 AND dispensed_milli <= quantity_milli",
            name="dispensed_within_fill",
        ),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT")
    )
    prescription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("prescriptions.id", ondelete="CASCADE"), index=True
    )
    sequence: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="ready")
    quantity_milli: Mapped[int] = mapped_column(BigInteger)
    dispensed_milli: Mapped[int] = mapped_column(BigInteger, default=0)
    pharmacy_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT")
    )
    """The pharmacy holding the fill (accepted or later); None while ready."""
    claimed_at: Mapped[datetime | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()


class PrescriptionDispense(IdMixin, CreatedMixin, Base):
    """One hand-over at the counter (a fill may take several)."""

    __tablename__ = "prescription_dispenses"
    __table_args__ = (CheckConstraint("quantity_milli > 0", name="positive"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT")
    )
    prescription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("prescriptions.id", ondelete="CASCADE"), index=True
    )
    fill_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("prescription_fills.id", ondelete="CASCADE"), index=True
    )
    pharmacy_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT")
    )
    pharmacist_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    quantity_milli: Mapped[int] = mapped_column(BigInteger)
    remaining_milli: Mapped[int] = mapped_column(BigInteger)
    """What remained of the whole prescription after this dispense."""


class PrescriptionEvent(IdMixin, Base):
    """The history: every transition, who made it, from which organization, when, why."""

    __tablename__ = "prescription_events"
    __table_args__ = (Index("ix_prescription_events_rx", "prescription_id", "occurred_at"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT")
    )
    """The prescription's (provider) organization."""
    prescription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("prescriptions.id", ondelete="CASCADE")
    )
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(200), default="")
    acting_organization_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL")
    )
    from_state: Mapped[str] = mapped_column(String(64))
    to_state: Mapped[str] = mapped_column(String(64))
    reason_code: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(EncryptedString("prescription_events.note"))
    quantity_milli: Mapped[int | None] = mapped_column(BigInteger)


class PrescriptionGrant(IdMixin, CreatedMixin, Base):
    """A pharmacy's access to a prescription of another organization.

    `fulfil`: routed there now (may claim, dispense, decline). `history`: the
    pharmacy once dispensed and the prescription moved on; it still reads what
    it did. Revoked (or absent): the prescription is a 404 to the pharmacy.
    """

    __tablename__ = "prescription_grants"
    __table_args__ = (
        UniqueConstraint("prescription_id", "grantee_organization_id"),
        Index("ix_prescription_grants_grantee", "grantee_organization_id", "scope"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT")
    )
    prescription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("prescriptions.id", ondelete="CASCADE")
    )
    grantee_organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    scope: Mapped[str] = mapped_column(String(16), default="fulfil")
    revoked_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
