"""care_plans

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06

Care plans: plans (title and content encrypted), their immutable numbered
versions, the shares that grant them to colleagues and other organizations,
the comment threads and who watches each plan.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
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
    op.create_table(
        "care_plans",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("shared_with_patient", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        *_base("care_plans"),
        _fk("care_plans", "organization_id", "organizations"),
        _fk("care_plans", "patient_id", "patients"),
        _fk("care_plans", "author_id", "users", "SET NULL"),
        _fk("care_plans", "updated_by", "users", "SET NULL"),
    )
    op.create_index(
        "ix_care_plans_patient", "care_plans", ["organization_id", "patient_id", "status"]
    )

    op.create_table(
        "care_plan_versions",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=True),
        sa.Column("author_name", sa.String(length=200), nullable=False),
        sa.Column("acting_organization_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("shared_with_patient", sa.Boolean(), nullable=False),
        sa.Column("restored_from", sa.Integer(), nullable=True),
        *_base("care_plan_versions"),
        _fk("care_plan_versions", "organization_id", "organizations"),
        _fk("care_plan_versions", "plan_id", "care_plans", "CASCADE"),
        _fk("care_plan_versions", "author_id", "users", "SET NULL"),
        _fk("care_plan_versions", "acting_organization_id", "organizations", "SET NULL"),
        sa.UniqueConstraint("plan_id", "number", name="uq_care_plan_versions_plan_id"),
    )

    op.create_table(
        "care_plan_shares",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("grantee_user_id", sa.Uuid(), nullable=True),
        sa.Column("grantee_organization_id", sa.Uuid(), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("expires_at", UTC_TIME, nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("accepted_at", UTC_TIME, nullable=True),
        sa.Column("accepted_by", sa.Uuid(), nullable=True),
        sa.Column("revoked_at", UTC_TIME, nullable=True),
        sa.Column("revoked_by", sa.Uuid(), nullable=True),
        *_base("care_plan_shares"),
        _fk("care_plan_shares", "organization_id", "organizations"),
        _fk("care_plan_shares", "plan_id", "care_plans", "CASCADE"),
        _fk("care_plan_shares", "grantee_user_id", "users", "CASCADE"),
        _fk("care_plan_shares", "grantee_organization_id", "organizations", "CASCADE"),
        _fk("care_plan_shares", "created_by", "users", "SET NULL"),
        _fk("care_plan_shares", "accepted_by", "users", "SET NULL"),
        _fk("care_plan_shares", "revoked_by", "users", "SET NULL"),
    )
    op.create_index("ix_care_plan_shares_plan", "care_plan_shares", ["plan_id"])
    op.create_index(
        "ix_care_plan_shares_grantee_org", "care_plan_shares", ["grantee_organization_id"]
    )
    op.create_index("ix_care_plan_shares_grantee_user", "care_plan_shares", ["grantee_user_id"])

    op.create_table(
        "care_plan_comments",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("anchor", sa.String(length=20), nullable=True),
        sa.Column("anchor_text", sa.Text(), nullable=True),
        sa.Column("author_id", sa.Uuid(), nullable=True),
        sa.Column("author_name", sa.String(length=200), nullable=False),
        sa.Column("acting_organization_id", sa.Uuid(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("edited_at", UTC_TIME, nullable=True),
        sa.Column("resolved_at", UTC_TIME, nullable=True),
        sa.Column("resolved_by", sa.Uuid(), nullable=True),
        *_base("care_plan_comments"),
        _fk("care_plan_comments", "organization_id", "organizations"),
        _fk("care_plan_comments", "plan_id", "care_plans", "CASCADE"),
        _fk("care_plan_comments", "parent_id", "care_plan_comments", "CASCADE"),
        _fk("care_plan_comments", "author_id", "users", "SET NULL"),
        _fk("care_plan_comments", "acting_organization_id", "organizations", "SET NULL"),
        _fk("care_plan_comments", "resolved_by", "users", "SET NULL"),
    )
    op.create_index("ix_care_plan_comments_plan", "care_plan_comments", ["plan_id", "created_at"])

    op.create_table(
        "care_plan_watches",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("watching", sa.Boolean(), nullable=False),
        *_base("care_plan_watches"),
        _fk("care_plan_watches", "organization_id", "organizations"),
        _fk("care_plan_watches", "plan_id", "care_plans", "CASCADE"),
        _fk("care_plan_watches", "user_id", "users", "CASCADE"),
        sa.UniqueConstraint("plan_id", "user_id", name="uq_care_plan_watches_plan_id"),
    )


def downgrade() -> None:
    op.drop_table("care_plan_watches")
    op.drop_table("care_plan_comments")
    op.drop_table("care_plan_shares")
    op.drop_table("care_plan_versions")
    op.drop_index("ix_care_plans_patient", table_name="care_plans")
    op.drop_table("care_plans")
