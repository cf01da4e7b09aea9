"""held_uploads

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07

Credential uploads: accepted files held for a partly refused submission.
Each held file is an encrypted object (its `encrypted_objects` row) owned by
one user of one organization, until `expires_at`.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = sa.DateTime(timezone=True)
TABLE = "held_uploads"


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}", ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("object_id", sa.Uuid(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", UTC_TIME, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=f"pk_{TABLE}"),
        _fk(TABLE, "organization_id", "organizations", "RESTRICT"),
        _fk(TABLE, "user_id", "users", "CASCADE"),
        _fk(TABLE, "object_id", "encrypted_objects", "RESTRICT"),
        sa.UniqueConstraint("object_id", name=f"uq_{TABLE}_object_id"),
    )
    op.create_index("ix_held_uploads_owner", TABLE, ["organization_id", "user_id"])
    op.create_index("ix_held_uploads_expires_at", TABLE, ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_held_uploads_expires_at", table_name=TABLE)
    op.drop_index("ix_held_uploads_owner", table_name=TABLE)
    op.drop_table(TABLE)
