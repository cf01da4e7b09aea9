"""audit_signals

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07

Audit: signals for organization admins (lockouts, failed-sign-in bursts).

`audit_signal_alerts` remembers, per kind of signal, organization and subject
(an account for a lockout, the whole organization for a burst), when the
administrators were last alerted and when the last qualifying failure was
seen, so that one burst sends one in-app notification and one email per
administrator, not one per failed attempt.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "audit_signal_alerts",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("last_seen_at", UTC_TIME, nullable=False),
        sa.Column("alerted_at", UTC_TIME, nullable=False),
        sa.Column("alerts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_audit_signal_alerts")),
    )
    op.create_index(
        "ix_audit_signal_alerts_organization_id", "audit_signal_alerts", ["organization_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_audit_signal_alerts_organization_id", table_name="audit_signal_alerts")
    op.drop_table("audit_signal_alerts")
