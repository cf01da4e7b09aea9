"""patient_self_service

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07

Patients: appointment requests and cancellations from the portal. A request is
an appointment in status `requested` whose `starts_at` opens the patient's
preferred window and `requested_until` closes it (staff confirm a slot in it);
`cancelled_by` names the account that cancelled, so the patient's list says
whether they or the clinic did.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("appointments") as batch:
        batch.add_column(sa.Column("requested_until", UTC_TIME, nullable=True))
        batch.add_column(sa.Column("cancelled_by", sa.Uuid(), nullable=True))
        batch.create_foreign_key(
            "fk_appointments_cancelled_by_users",
            "users",
            ["cancelled_by"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("appointments") as batch:
        batch.drop_constraint("fk_appointments_cancelled_by_users", type_="foreignkey")
        batch.drop_column("cancelled_by")
        batch.drop_column("requested_until")
