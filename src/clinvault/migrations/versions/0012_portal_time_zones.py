"""portal_time_zones

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07

Organizations: the time zone the portal shows times in for members who have
not chosen their own (users.time_zone exists since 0008). NULL means UTC.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("organizations", sa.Column("time_zone", sa.String(64), nullable=True))


def downgrade() -> None:
    # A plain ALTER (SQLite >= 3.35 drops columns): rebuilding the table would trip
    # the foreign keys that point at organizations.
    op.drop_column("organizations", "time_zone")
