"""hardening

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06

Hardening: platform-unique NPI, per-source sign-in throttle, and other schema changes of the hardening work.

Sign-in failures move from `users` to `sign_in_throttles`, keyed by a keyed
hash of the identifier or the client address, so that an unknown address is
counted and locked exactly like a known one. The plain columns are dropped with
ALTER TABLE … DROP COLUMN (SQLite 3.35+ and PostgreSQL): recreating `users` in
batch mode would fire the ON DELETE actions of the tables that reference it.

An NPI identifies one practitioner: a unique index on `practitioner_profiles.npi`
(NULLs allowed, many profiles have none yet). An existing duplicate stops the
upgrade, before any change, with the query that lists them, since which
profile is right is an administrator's decision.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = sa.DateTime(timezone=True)

DUPLICATE_NPIS = (
    "SELECT npi, count(*) FROM practitioner_profiles WHERE npi IS NOT NULL "
    "GROUP BY npi HAVING count(*) > 1"
)


def upgrade() -> None:
    # Checked before any DDL: SQLite does not roll DDL back when a migration stops.
    duplicates = op.get_bind().execute(sa.text(DUPLICATE_NPIS)).all()
    if duplicates:
        raise RuntimeError(
            f"{len(duplicates)} NPI(s) are held by more than one practitioner profile; an NPI "
            "must be unique. List them with: " + DUPLICATE_NPIS + "; correct or clear the wrong "
            "profiles' npi, then run the migration again."
        )
    op.create_table(
        "sign_in_throttles",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", UTC_TIME, nullable=False),
        sa.Column("locked_until", UTC_TIME, nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sign_in_throttles")),
    )
    op.drop_column("users", "failed_logins")
    op.drop_column("users", "locked_until")

    op.create_index("ix_practitioner_profiles_npi", "practitioner_profiles", ["npi"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_practitioner_profiles_npi", table_name="practitioner_profiles")
    op.add_column("users", sa.Column("locked_until", UTC_TIME, nullable=True))
    op.add_column(
        "users",
        sa.Column("failed_logins", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )
    op.drop_table("sign_in_throttles")
