"""care_plan_digests_and_attachments

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

Care plans: digest preferences and attached documents.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = sa.DateTime(timezone=True)


def _fk(
    table: str, column: str, target: str, ondelete: str | None = "RESTRICT"
) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=f"fk_{table}_{column}_{target}",
        ondelete=ondelete,
    )


def _base(table: str) -> list[sa.Column[object] | sa.PrimaryKeyConstraint]:
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
    ]


def upgrade() -> None:
    table = "care_plan_attachments"
    op.create_table(
        table,
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("object_id", sa.Uuid(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("content_type", sa.String(length=127), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("added_by", sa.Uuid(), nullable=True),
        sa.Column("added_by_name", sa.String(length=200), nullable=False),
        sa.Column("acting_organization_id", sa.Uuid(), nullable=True),
        sa.Column("removed_at", UTC_TIME, nullable=True),
        sa.Column("removed_by", sa.Uuid(), nullable=True),
        sa.Column("removed_in_version", sa.Integer(), nullable=True),
        *_base(table),
        _fk(table, "organization_id", "organizations"),
        _fk(table, "plan_id", "care_plans", "CASCADE"),
        _fk(table, "object_id", "encrypted_objects"),
        _fk(table, "added_by", "users", "SET NULL"),
        _fk(table, "acting_organization_id", "organizations", "SET NULL"),
        _fk(table, "removed_by", "users", "SET NULL"),
        sa.UniqueConstraint("object_id", name="uq_care_plan_attachments_object_id"),
    )
    op.create_index("ix_care_plan_attachments_plan", table, ["plan_id", "created_at"])

    table = "care_plan_mail_preferences"
    op.create_table(
        table,
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("delivery", sa.String(length=20), nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        *_base(table),
        _fk(table, "organization_id", "organizations", "CASCADE"),
        _fk(table, "user_id", "users", "CASCADE"),
        sa.UniqueConstraint("user_id", name="uq_care_plan_mail_preferences_user_id"),
    )

    table = "care_plan_digest_entries"
    op.create_table(
        table,
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("headline", sa.String(length=200), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("digest_key", sa.String(length=120), nullable=True),
        sa.Column("digested_at", UTC_TIME, nullable=True),
        sa.Column("mailed_at", UTC_TIME, nullable=True),
        *_base(table),
        _fk(table, "organization_id", "organizations", "CASCADE"),
        _fk(table, "user_id", "users", "CASCADE"),
        _fk(table, "plan_id", "care_plans", "CASCADE"),
        sa.UniqueConstraint("user_id", "dedupe_key", name="uq_care_plan_digest_entries_user_id"),
    )
    op.create_index("ix_care_plan_digest_entries_digest", table, ["digest_key", "user_id"])


def downgrade() -> None:
    op.drop_index("ix_care_plan_digest_entries_digest", table_name="care_plan_digest_entries")
    op.drop_table("care_plan_digest_entries")
    op.drop_table("care_plan_mail_preferences")
    op.drop_index("ix_care_plan_attachments_plan", table_name="care_plan_attachments")
    op.drop_table("care_plan_attachments")
