"""CSV ingest: signed uploads, import jobs, their rejected rows, per-organization settings.

A signed upload is single-use: its `status` moves from `pending` to
`received` in one conditional update. A job owns the encrypted object of the
file; its counters and `checkpoint_row` are committed together with each
batch of rows, so a resumed job continues after the last committed batch.
Rejected rows keep their original cells (PHI: encrypted) for the error report.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from clinvault.crypto.fields import EncryptedString
from clinvault.models.base import Base, CreatedMixin, IdMixin
from clinvault.timeutil import utcnow


class IngestUpload(IdMixin, CreatedMixin, Base):
    __tablename__ = "ingest_uploads"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_by_client: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("api_clients.id", ondelete="SET NULL")
    )
    storage_key: Mapped[str] = mapped_column(String(512), unique=True)
    filename: Mapped[str] = mapped_column(EncryptedString("ingest_uploads.filename"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    expires_at: Mapped[datetime] = mapped_column()
    max_bytes: Mapped[int] = mapped_column(BigInteger)
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    timezone: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime | None] = mapped_column()


class IngestJob(IdMixin, CreatedMixin, Base):
    __tablename__ = "ingest_jobs"
    __table_args__ = (
        Index("ix_ingest_jobs_organization_created", "organization_id", "created_at"),
        Index("ix_ingest_jobs_organization_sha256", "organization_id", "sha256"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT")
    )
    upload_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("ingest_uploads.id", ondelete="RESTRICT"), unique=True
    )
    object_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("encrypted_objects.id", ondelete="RESTRICT")
    )
    filename: Mapped[str] = mapped_column(EncryptedString("ingest_jobs.filename"))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(32), default="uploaded")
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    timezone: Mapped[str | None] = mapped_column(String(64))
    started_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    started_by_client: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("api_clients.id", ondelete="SET NULL")
    )
    duplicate_of: Mapped[uuid.UUID | None] = mapped_column()
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_valid: Mapped[int] = mapped_column(Integer, default=0)
    rows_inserted: Mapped[int] = mapped_column(Integer, default=0)
    rows_present: Mapped[int] = mapped_column(Integer, default=0)
    rows_amended: Mapped[int] = mapped_column(Integer, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0)
    patients_created: Mapped[int] = mapped_column(Integer, default=0)
    checkpoint_row: Mapped[int] = mapped_column(Integer, default=0)
    bytes_read: Mapped[int] = mapped_column(BigInteger, default=0)
    unknown_columns: Mapped[str | None] = mapped_column(String(1000))
    message: Mapped[str | None] = mapped_column(String(1000))
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    report_object_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("encrypted_objects.id", ondelete="SET NULL")
    )
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class IngestRowError(Base):
    """One rejected row: line, column, code and message; the cells are PHI (encrypted)."""

    __tablename__ = "ingest_row_errors"
    __table_args__ = (Index("ix_ingest_row_errors_job_line", "job_id", "line"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT")
    )
    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ingest_jobs.id", ondelete="CASCADE"))
    line: Mapped[int] = mapped_column(Integer)
    column: Mapped[str | None] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(48))
    message: Mapped[str] = mapped_column(String(500))
    cells: Mapped[str] = mapped_column(EncryptedString("ingest_row_errors.cells"))


class IngestSettings(Base):
    """Per-organization choices: what a changed row does, when a job gives up."""

    __tablename__ = "ingest_settings"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    on_changed_row: Mapped[str] = mapped_column(String(16), default="reject")
    max_invalid_percent: Mapped[int] = mapped_column(Integer, default=50)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
