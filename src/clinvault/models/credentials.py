"""Practitioner profiles, credential categories, submissions, documents and reminders."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
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


class PractitionerProfile(IdMixin, CreatedMixin, Base):
    __tablename__ = "practitioner_profiles"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    # One NPI identifies one practitioner across the platform.
    npi: Mapped[str | None] = mapped_column(String(10), index=True, unique=True)
    specialty: Mapped[str] = mapped_column(String(120), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CredentialCategory(IdMixin, CreatedMixin, Base):
    """A category an organization adds to the built-in ones."""

    __tablename__ = "credential_categories"
    __table_args__ = (UniqueConstraint("organization_id", "code"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(120))
    requires_expiry: Mapped[bool] = mapped_column(Boolean, default=True)
    allowed_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)


class CredentialSubmission(IdMixin, Base):
    __tablename__ = "credential_submissions"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    practitioner_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    estimated_review_by: Mapped[date] = mapped_column(Date)
    escalated_at: Mapped[datetime | None] = mapped_column()


class CredentialDocument(IdMixin, CreatedMixin, Base):
    """One version of one credential document; its bytes live in `encrypted_objects`."""

    __tablename__ = "credential_documents"
    __table_args__ = (
        Index("ix_credential_documents_queue", "organization_id", "status", "created_at"),
        Index("ix_credential_documents_expiry", "expires_on"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT")
    )
    submission_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("credential_submissions.id", ondelete="RESTRICT"), index=True
    )
    practitioner_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    object_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("encrypted_objects.id", ondelete="RESTRICT"), unique=True
    )
    category: Mapped[str] = mapped_column(String(64))
    issuing_authority: Mapped[str] = mapped_column(String(200))
    issued_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)
    document_number: Mapped[str] = mapped_column(
        EncryptedString("credential_documents.document_number")
    )
    filename: Mapped[str] = mapped_column(String(255))
    version: Mapped[int] = mapped_column(Integer, default=1)
    replaces_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("credential_documents.id"), unique=True
    )
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    status_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    review_workflow_id: Mapped[str] = mapped_column(String(120))
    review_started_at: Mapped[datetime | None] = mapped_column()
    review_started_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    assigned_reviewer_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    decided_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    decided_at: Mapped[datetime | None] = mapped_column()
    reason_code: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(EncryptedString("credential_documents.note"))


class CredentialReminder(IdMixin, CreatedMixin, Base):
    """An expiry reminder recorded once per document and threshold (0 = expired notice)."""

    __tablename__ = "credential_reminders"
    __table_args__ = (UniqueConstraint("document_id", "days_before"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    document_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("credential_documents.id", ondelete="CASCADE")
    )
    days_before: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date] = mapped_column(Date)
    mailed_at: Mapped[datetime | None] = mapped_column()
