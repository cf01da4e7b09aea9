"""credential_intake

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30

Practitioner profiles, organization credential categories, submissions,
credential documents (bytes in encrypted_objects, so key rotation covers
them), sent expiry reminders and in-app notifications.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = sa.DateTime(timezone=True)


def _org_fk(table: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["organization_id"],
        ["organizations.id"],
        name=op.f(f"fk_{table}_organization_id_organizations"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    op.create_table(
        "practitioner_profiles",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("npi", sa.String(length=10), nullable=True),
        sa.Column("specialty", sa.String(length=120), nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        _org_fk("practitioner_profiles", "RESTRICT"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_practitioner_profiles_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_practitioner_profiles")),
        sa.UniqueConstraint("user_id", name=op.f("uq_practitioner_profiles_user_id")),
    )
    op.create_index(
        "ix_practitioner_profiles_organization_id", "practitioner_profiles", ["organization_id"]
    )

    op.create_table(
        "credential_categories",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("requires_expiry", sa.Boolean(), nullable=False),
        sa.Column("allowed_kinds", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        _org_fk("credential_categories", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credential_categories")),
        sa.UniqueConstraint(
            "organization_id", "code", name=op.f("uq_credential_categories_organization_id")
        ),
    )
    op.create_index(
        "ix_credential_categories_organization_id", "credential_categories", ["organization_id"]
    )

    op.create_table(
        "credential_submissions",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("practitioner_id", sa.Uuid(), nullable=False),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("submitted_at", UTC_TIME, nullable=False),
        sa.Column("estimated_review_by", sa.Date(), nullable=False),
        sa.Column("escalated_at", UTC_TIME, nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        _org_fk("credential_submissions", "RESTRICT"),
        sa.ForeignKeyConstraint(
            ["practitioner_id"],
            ["users.id"],
            name=op.f("fk_credential_submissions_practitioner_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credential_submissions")),
        sa.UniqueConstraint("reference", name=op.f("uq_credential_submissions_reference")),
    )
    op.create_index(
        "ix_credential_submissions_organization_id", "credential_submissions", ["organization_id"]
    )
    op.create_index(
        "ix_credential_submissions_practitioner_id", "credential_submissions", ["practitioner_id"]
    )

    op.create_table(
        "credential_documents",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("submission_id", sa.Uuid(), nullable=False),
        sa.Column("practitioner_id", sa.Uuid(), nullable=False),
        sa.Column("object_id", sa.Uuid(), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("issuing_authority", sa.String(length=200), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("document_number", sa.Text(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("replaces_id", sa.Uuid(), nullable=True),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_changed_at", UTC_TIME, nullable=False),
        sa.Column("review_workflow_id", sa.String(length=120), nullable=False),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("decided_at", UTC_TIME, nullable=True),
        sa.Column("reason_code", sa.String(length=32), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        _org_fk("credential_documents", "RESTRICT"),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["credential_submissions.id"],
            name=op.f("fk_credential_documents_submission_id_credential_submissions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["practitioner_id"],
            ["users.id"],
            name=op.f("fk_credential_documents_practitioner_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["object_id"],
            ["encrypted_objects.id"],
            name=op.f("fk_credential_documents_object_id_encrypted_objects"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["replaces_id"],
            ["credential_documents.id"],
            name=op.f("fk_credential_documents_replaces_id_credential_documents"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["users.id"],
            name=op.f("fk_credential_documents_decided_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credential_documents")),
        sa.UniqueConstraint("object_id", name=op.f("uq_credential_documents_object_id")),
        sa.UniqueConstraint("replaces_id", name=op.f("uq_credential_documents_replaces_id")),
    )
    op.create_index(
        "ix_credential_documents_queue",
        "credential_documents",
        ["organization_id", "status", "created_at"],
    )
    op.create_index("ix_credential_documents_expiry", "credential_documents", ["expires_on"])
    op.create_index(
        "ix_credential_documents_submission_id", "credential_documents", ["submission_id"]
    )
    op.create_index(
        "ix_credential_documents_practitioner_id", "credential_documents", ["practitioner_id"]
    )

    op.create_table(
        "credential_reminders",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("days_before", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("mailed_at", UTC_TIME, nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        _org_fk("credential_reminders", "CASCADE"),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["credential_documents.id"],
            name=op.f("fk_credential_reminders_document_id_credential_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credential_reminders")),
        sa.UniqueConstraint(
            "document_id", "days_before", name=op.f("uq_credential_reminders_document_id")
        ),
    )
    op.create_index(
        "ix_credential_reminders_organization_id", "credential_reminders", ["organization_id"]
    )

    op.create_table(
        "notifications",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.String(length=1000), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=True),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("read_at", UTC_TIME, nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        _org_fk("notifications", "CASCADE"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notifications_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("user_id", "dedupe_key", name=op.f("uq_notifications_user_id")),
    )
    op.create_index("ix_notifications_organization_id", "notifications", ["organization_id"])
    op.create_index("ix_notifications_user_created", "notifications", ["user_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_notifications_user_created", table_name="notifications")
    op.drop_index("ix_notifications_organization_id", table_name="notifications")
    op.drop_table("notifications")
    op.drop_index("ix_credential_reminders_organization_id", table_name="credential_reminders")
    op.drop_table("credential_reminders")
    for index in (
        "ix_credential_documents_practitioner_id",
        "ix_credential_documents_submission_id",
        "ix_credential_documents_expiry",
        "ix_credential_documents_queue",
    ):
        op.drop_index(index, table_name="credential_documents")
    op.drop_table("credential_documents")
    op.drop_index("ix_credential_submissions_practitioner_id", table_name="credential_submissions")
    op.drop_index("ix_credential_submissions_organization_id", table_name="credential_submissions")
    op.drop_table("credential_submissions")
    op.drop_index("ix_credential_categories_organization_id", table_name="credential_categories")
    op.drop_table("credential_categories")
    op.drop_index("ix_practitioner_profiles_organization_id", table_name="practitioner_profiles")
    op.drop_table("practitioner_profiles")
