"""records_platform

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30

Patients (PHI encrypted, MRN unique per organization through its blind
index, optional link to a patient user), their search tokens (blind-index
digests of name prefixes, date of birth and phone), versioned medical
records, record attachments (encrypted objects) and appointments.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = sa.DateTime(timezone=True)


def _org_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["organization_id"],
        ["organizations.id"],
        name=f"fk_{table}_organization_id_organizations",
        ondelete="RESTRICT",
    )


def _user_fk(table: str, column: str, ondelete: str = "SET NULL") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["users.id"], name=f"fk_{table}_{column}_users", ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "patients",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("mrn", sa.Text(), nullable=False),
        sa.Column("mrn_index", sa.String(length=64), nullable=False),
        sa.Column("first_name", sa.Text(), nullable=False),
        sa.Column("last_name", sa.Text(), nullable=False),
        sa.Column("date_of_birth", sa.Text(), nullable=False),
        sa.Column("gender", sa.Text(), nullable=False),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("blood_type", sa.Text(), nullable=True),
        sa.Column("allergies", sa.Text(), nullable=True),
        sa.Column("emergency_contact", sa.Text(), nullable=True),
        sa.Column("ssn", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        _org_fk("patients"),
        _user_fk("patients", "user_id"),
        _user_fk("patients", "created_by"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patients")),
        sa.UniqueConstraint("user_id", name=op.f("uq_patients_user_id")),
        sa.UniqueConstraint(
            "organization_id", "mrn_index", name=op.f("uq_patients_organization_mrn")
        ),
    )
    op.create_index("ix_patients_organization_id", "patients", ["organization_id"])

    op.create_table(
        "patient_search_tokens",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        _org_fk("patient_search_tokens"),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_patient_search_tokens_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_search_tokens")),
    )
    op.create_index(
        "ix_patient_search_tokens_lookup",
        "patient_search_tokens",
        ["organization_id", "kind", "token_hash", "patient_id"],
        unique=True,
    )
    op.create_index("ix_patient_search_tokens_patient_id", "patient_search_tokens", ["patient_id"])

    op.create_table(
        "medical_records",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("record_type", sa.String(length=32), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=True),
        sa.Column("recorded_at", UTC_TIME, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("supersedes_id", sa.Uuid(), nullable=True),
        sa.Column("superseded_by_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        _org_fk("medical_records"),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_medical_records_patient_id_patients"),
            ondelete="RESTRICT",
        ),
        _user_fk("medical_records", "author_id"),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["medical_records.id"],
            name=op.f("fk_medical_records_supersedes_id_medical_records"),
        ),
        sa.ForeignKeyConstraint(
            ["superseded_by_id"],
            ["medical_records.id"],
            name=op.f("fk_medical_records_superseded_by_id_medical_records"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_medical_records")),
        sa.UniqueConstraint("supersedes_id", name=op.f("uq_medical_records_supersedes_id")),
    )
    op.create_index("ix_medical_records_organization_id", "medical_records", ["organization_id"])
    op.create_index(
        "ix_medical_records_patient_time",
        "medical_records",
        ["organization_id", "patient_id", "recorded_at"],
    )

    op.create_table(
        "record_attachments",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("object_id", sa.Uuid(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("content_type", sa.String(length=127), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("uploaded_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        _org_fk("record_attachments"),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["medical_records.id"],
            name=op.f("fk_record_attachments_record_id_medical_records"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["object_id"],
            ["encrypted_objects.id"],
            name=op.f("fk_record_attachments_object_id_encrypted_objects"),
            ondelete="RESTRICT",
        ),
        _user_fk("record_attachments", "uploaded_by"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_attachments")),
        sa.UniqueConstraint("object_id", name=op.f("uq_record_attachments_object_id")),
    )
    op.create_index("ix_record_attachments_record_id", "record_attachments", ["record_id"])

    op.create_table(
        "appointments",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("practitioner_id", sa.Uuid(), nullable=False),
        sa.Column("starts_at", UTC_TIME, nullable=False),
        sa.Column("ends_at", UTC_TIME, nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("booked_by", sa.Uuid(), nullable=True),
        sa.Column("cancelled_at", UTC_TIME, nullable=True),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        _org_fk("appointments"),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_appointments_patient_id_patients"),
            ondelete="RESTRICT",
        ),
        _user_fk("appointments", "practitioner_id", ondelete="RESTRICT"),
        _user_fk("appointments", "booked_by"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
    )
    op.create_index(
        "ix_appointments_practitioner_time",
        "appointments",
        ["organization_id", "practitioner_id", "starts_at"],
    )
    op.create_index(
        "ix_appointments_patient_time",
        "appointments",
        ["organization_id", "patient_id", "starts_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_appointments_patient_time", table_name="appointments")
    op.drop_index("ix_appointments_practitioner_time", table_name="appointments")
    op.drop_table("appointments")
    op.drop_index("ix_record_attachments_record_id", table_name="record_attachments")
    op.drop_table("record_attachments")
    op.drop_index("ix_medical_records_patient_time", table_name="medical_records")
    op.drop_index("ix_medical_records_organization_id", table_name="medical_records")
    op.drop_table("medical_records")
    op.drop_index("ix_patient_search_tokens_patient_id", table_name="patient_search_tokens")
    op.drop_index("ix_patient_search_tokens_lookup", table_name="patient_search_tokens")
    op.drop_table("patient_search_tokens")
    op.drop_index("ix_patients_organization_id", table_name="patients")
    op.drop_table("patients")
