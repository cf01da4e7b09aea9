"""csv_ingest

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06

CSV ingest: signed uploads, import jobs, their rejected rows, per-organization
settings; provenance and the idempotency key on medical records; the import
that created a patient.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = sa.DateTime(timezone=True)


def _org_fk(table: str, ondelete: str = "RESTRICT") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["organization_id"],
        ["organizations.id"],
        name=f"fk_{table}_organization_id_organizations",
        ondelete=ondelete,
    )


def _user_fk(table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["users.id"], name=f"fk_{table}_{column}_users", ondelete="SET NULL"
    )


def upgrade() -> None:
    op.create_table(
        "ingest_uploads",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("storage_key", sa.String(length=512), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("expires_at", UTC_TIME, nullable=False),
        sa.Column("max_bytes", sa.BigInteger(), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("received_at", UTC_TIME, nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        _org_fk("ingest_uploads"),
        _user_fk("ingest_uploads", "created_by"),
        sa.PrimaryKeyConstraint("id", name="pk_ingest_uploads"),
        sa.UniqueConstraint("storage_key", name="uq_ingest_uploads_storage_key"),
    )
    op.create_index(
        "ix_ingest_uploads_organization_id", "ingest_uploads", ["organization_id"], unique=False
    )
    op.create_table(
        "ingest_jobs",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("upload_id", sa.Uuid(), nullable=False),
        sa.Column("object_id", sa.Uuid(), nullable=True),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("started_by", sa.Uuid(), nullable=True),
        sa.Column("duplicate_of", sa.Uuid(), nullable=True),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("rows_valid", sa.Integer(), nullable=False),
        sa.Column("rows_inserted", sa.Integer(), nullable=False),
        sa.Column("rows_present", sa.Integer(), nullable=False),
        sa.Column("rows_amended", sa.Integer(), nullable=False),
        sa.Column("rows_rejected", sa.Integer(), nullable=False),
        sa.Column("patients_created", sa.Integer(), nullable=False),
        sa.Column("checkpoint_row", sa.Integer(), nullable=False),
        sa.Column("bytes_read", sa.BigInteger(), nullable=False),
        sa.Column("unknown_columns", sa.String(length=1000), nullable=True),
        sa.Column("message", sa.String(length=1000), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("report_object_id", sa.Uuid(), nullable=True),
        sa.Column("started_at", UTC_TIME, nullable=True),
        sa.Column("finished_at", UTC_TIME, nullable=True),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        _org_fk("ingest_jobs"),
        _user_fk("ingest_jobs", "started_by"),
        sa.ForeignKeyConstraint(
            ["upload_id"],
            ["ingest_uploads.id"],
            name="fk_ingest_jobs_upload_id_ingest_uploads",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["object_id"],
            ["encrypted_objects.id"],
            name="fk_ingest_jobs_object_id_encrypted_objects",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["report_object_id"],
            ["encrypted_objects.id"],
            name="fk_ingest_jobs_report_object_id_encrypted_objects",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_ingest_jobs"),
        sa.UniqueConstraint("upload_id", name="uq_ingest_jobs_upload_id"),
    )
    op.create_index(
        "ix_ingest_jobs_organization_created",
        "ingest_jobs",
        ["organization_id", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_ingest_jobs_organization_sha256", "ingest_jobs", ["organization_id", "sha256"]
    )
    op.create_table(
        "ingest_row_errors",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("column", sa.String(length=64), nullable=True),
        sa.Column("code", sa.String(length=48), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column("cells", sa.Text(), nullable=False),
        _org_fk("ingest_row_errors"),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["ingest_jobs.id"],
            name="fk_ingest_row_errors_job_id_ingest_jobs",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_ingest_row_errors"),
    )
    op.create_index("ix_ingest_row_errors_job_line", "ingest_row_errors", ["job_id", "line"])
    op.create_table(
        "ingest_settings",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("on_changed_row", sa.String(length=16), nullable=False),
        sa.Column("max_invalid_percent", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        _org_fk("ingest_settings", "CASCADE"),
        sa.PrimaryKeyConstraint("organization_id", name="pk_ingest_settings"),
    )
    # Added columns only (no table rebuild on SQLite): plain, nullable, without constraints.
    op.add_column("patients", sa.Column("imported_by_job_id", sa.Uuid(), nullable=True))
    for column in (
        sa.Column("import_key", sa.String(length=64), nullable=True),
        sa.Column("import_digest", sa.String(length=64), nullable=True),
        sa.Column("import_job_id", sa.Uuid(), nullable=True),
        sa.Column("import_row", sa.Integer(), nullable=True),
        sa.Column("import_source", sa.Text(), nullable=True),
        sa.Column("processed_at", UTC_TIME, nullable=True),
    ):
        op.add_column("medical_records", column)
    op.create_index(
        "ix_medical_records_import_key",
        "medical_records",
        ["organization_id", "import_key", "version"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("ix_medical_records_import_key", table_name="medical_records")
    with op.batch_alter_table("medical_records") as batch:
        for name in (
            "processed_at",
            "import_source",
            "import_row",
            "import_job_id",
            "import_digest",
            "import_key",
        ):
            batch.drop_column(name)
    with op.batch_alter_table("patients") as batch:
        batch.drop_column("imported_by_job_id")
    op.drop_table("ingest_settings")
    op.drop_index("ix_ingest_row_errors_job_line", table_name="ingest_row_errors")
    op.drop_table("ingest_row_errors")
    op.drop_index("ix_ingest_jobs_organization_sha256", table_name="ingest_jobs")
    op.drop_index("ix_ingest_jobs_organization_created", table_name="ingest_jobs")
    op.drop_table("ingest_jobs")
    op.drop_index("ix_ingest_uploads_organization_id", table_name="ingest_uploads")
    op.drop_table("ingest_uploads")
