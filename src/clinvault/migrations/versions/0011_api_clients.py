"""api_clients

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07

API clients: machine callers of an organization (OAuth 2.0 client credentials),
holding scopes and the SHA-256 digest of their secret; the client that created an
upload or started an import job.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = sa.DateTime(timezone=True)
INGEST_COLUMNS = (
    ("ingest_uploads", "created_by_client"),
    ("ingest_jobs", "started_by_client"),
)


def upgrade() -> None:
    op.create_table(
        "api_clients",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("secret_version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("rotated_at", UTC_TIME, nullable=True),
        sa.Column("revoked_at", UTC_TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_clients"),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name="fk_api_clients_organization_id_organizations",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name="fk_api_clients_created_by_users",
            ondelete="SET NULL",
        ),
    )
    op.create_index("ix_api_clients_organization_id", "api_clients", ["organization_id"])
    for table, column in INGEST_COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column(column, sa.Uuid(), nullable=True))
            batch.create_foreign_key(
                f"fk_{table}_{column}_api_clients",
                "api_clients",
                [column],
                ["id"],
                ondelete="SET NULL",
            )


def downgrade() -> None:
    for table, column in INGEST_COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"fk_{table}_{column}_api_clients", type_="foreignkey")
            batch.drop_column(column)
    op.drop_index("ix_api_clients_organization_id", table_name="api_clients")
    op.drop_table("api_clients")
