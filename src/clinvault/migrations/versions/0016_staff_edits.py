"""staff_edits

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07

Staff edits: an appointment keeps why staff cancelled it (`cancel_reason`) and
why it was last moved (`change_reason`), both encrypted like `reason`.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("appointments") as batch:
        batch.add_column(sa.Column("cancel_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("change_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("appointments") as batch:
        batch.drop_column("change_reason")
        batch.drop_column("cancel_reason")
