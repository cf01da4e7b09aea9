"""credential_review_work

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07

Credential review: the review of a document starts explicitly (who started it
and when) and may be assigned to a reviewer of the organization.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = sa.DateTime(timezone=True)
TABLE = "credential_documents"
PEOPLE = ("review_started_by", "assigned_reviewer_id")


def upgrade() -> None:
    with op.batch_alter_table(TABLE) as batch:
        batch.add_column(sa.Column("review_started_at", UTC_TIME, nullable=True))
        for column in PEOPLE:
            batch.add_column(sa.Column(column, sa.Uuid(), nullable=True))
            batch.create_foreign_key(
                f"fk_{TABLE}_{column}_users", "users", [column], ["id"], ondelete="SET NULL"
            )
    op.create_index("ix_credential_documents_assigned_reviewer_id", TABLE, ["assigned_reviewer_id"])


def downgrade() -> None:
    op.drop_index("ix_credential_documents_assigned_reviewer_id", table_name=TABLE)
    with op.batch_alter_table(TABLE) as batch:
        for column in reversed(PEOPLE):
            batch.drop_constraint(f"fk_{TABLE}_{column}_users", type_="foreignkey")
            batch.drop_column(column)
        batch.drop_column("review_started_at")
