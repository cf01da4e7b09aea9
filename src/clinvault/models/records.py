"""Patients, their search tokens, medical records, attachments and appointments.

Every identifying or clinical value is an `EncryptedString`; what must be
found or kept unique is found through keyed digests (blind indexes): the MRN
digest on the patient row, and name prefixes, date of birth and phone in
`patient_search_tokens`.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clinvault.crypto.fields import EncryptedString
from clinvault.models.base import Base, CreatedMixin, IdMixin
from clinvault.timeutil import utcnow


class Patient(IdMixin, CreatedMixin, Base):
    __tablename__ = "patients"
    __table_args__ = (
        UniqueConstraint("organization_id", "mrn_index", name="uq_patients_organization_mrn"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), unique=True
    )
    mrn: Mapped[str] = mapped_column(EncryptedString("patients.mrn"))
    mrn_index: Mapped[str] = mapped_column(String(64))
    first_name: Mapped[str] = mapped_column(EncryptedString("patients.first_name"))
    last_name: Mapped[str] = mapped_column(EncryptedString("patients.last_name"))
    date_of_birth: Mapped[str] = mapped_column(EncryptedString("patients.date_of_birth"))
    gender: Mapped[str] = mapped_column(EncryptedString("patients.gender"))
    phone: Mapped[str | None] = mapped_column(EncryptedString("patients.phone"))
    email: Mapped[str | None] = mapped_column(EncryptedString("patients.email"))
    address: Mapped[str | None] = mapped_column(EncryptedString("patients.address"))
    blood_type: Mapped[str | None] = mapped_column(EncryptedString("patients.blood_type"))
    allergies: Mapped[str | None] = mapped_column(EncryptedString("patients.allergies"))
    emergency_contact: Mapped[str | None] = mapped_column(
        EncryptedString("patients.emergency_contact")
    )
    ssn: Mapped[str | None] = mapped_column(EncryptedString("patients.ssn"))
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    # Set when a CSV import created the patient (the import job's id).
    imported_by_job_id: Mapped[uuid.UUID | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PatientSearchToken(Base):
    """One blind-index digest of a patient: a name prefix, the date of birth or the phone."""

    __tablename__ = "patient_search_tokens"
    __table_args__ = (
        # patient_id last: a digest's patients are read from the index alone, in id order.
        Index(
            "ix_patient_search_tokens_lookup",
            "organization_id",
            "kind",
            "token_hash",
            "patient_id",
            unique=True,
        ),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT")
    )
    patient_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64))


class MedicalRecord(IdMixin, CreatedMixin, Base):
    """One version of a record; an amendment is a new row that `supersedes` the previous."""

    __tablename__ = "medical_records"
    __table_args__ = (
        Index("ix_medical_records_patient_time", "organization_id", "patient_id", "recorded_at"),
        # The idempotency key of imported rows: (organization, MRN digest, date-time) as one
        # keyed digest; NULL (never equal) for records written through the API.
        Index(
            "ix_medical_records_import_key",
            "organization_id",
            "import_key",
            "version",
            unique=True,
        ),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="RESTRICT"))
    record_type: Mapped[str] = mapped_column(String(32))
    priority: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(EncryptedString("medical_records.title"))
    content: Mapped[str] = mapped_column(EncryptedString("medical_records.content"))
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column()
    version: Mapped[int] = mapped_column(Integer, default=1)
    # NO ACTION (not RESTRICT) so that one statement may delete a whole version chain.
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("medical_records.id"), unique=True
    )
    superseded_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("medical_records.id", ondelete="SET NULL")
    )
    # Provenance of imported records (all NULL for records written through the API).
    import_key: Mapped[str | None] = mapped_column(String(64))
    import_digest: Mapped[str | None] = mapped_column(String(64))
    import_job_id: Mapped[uuid.UUID | None] = mapped_column()
    import_row: Mapped[int | None] = mapped_column(Integer)
    import_source: Mapped[str | None] = mapped_column(
        EncryptedString("medical_records.import_source")
    )
    processed_at: Mapped[datetime | None] = mapped_column()


class RecordAttachment(IdMixin, CreatedMixin, Base):
    """A file of a record; its bytes are an encrypted object, its name is PHI."""

    __tablename__ = "record_attachments"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT")
    )
    record_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("medical_records.id", ondelete="RESTRICT"), index=True
    )
    object_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("encrypted_objects.id", ondelete="RESTRICT"), unique=True
    )
    filename: Mapped[str] = mapped_column(EncryptedString("record_attachments.filename"))
    content_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(BigInteger)
    uploaded_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class Appointment(IdMixin, CreatedMixin, Base):
    __tablename__ = "appointments"
    __table_args__ = (
        Index(
            "ix_appointments_practitioner_time",
            "organization_id",
            "practitioner_id",
            "starts_at",
        ),
        Index("ix_appointments_patient_time", "organization_id", "patient_id", "starts_at"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT")
    )
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="RESTRICT"))
    practitioner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    reason: Mapped[str | None] = mapped_column(EncryptedString("appointments.reason"))
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    booked_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    cancelled_at: Mapped[datetime | None] = mapped_column()
    # Who cancelled (the patient or staff); a request's preferred window ends here.
    cancelled_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    requested_until: Mapped[datetime | None] = mapped_column()
    # Why staff cancelled or last moved the slot (shown to staff only, never mailed).
    cancel_reason: Mapped[str | None] = mapped_column(EncryptedString("appointments.cancel_reason"))
    change_reason: Mapped[str | None] = mapped_column(EncryptedString("appointments.change_reason"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
