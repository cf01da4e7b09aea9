"""prescriptions

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06

Prescriptions: pharmacy directory entries, per-organization prescribing
policies, prescriptions (medication, directions and notes encrypted;
quantities in thousandths), fills, dispenses, the transition history and the
grants that route a prescription to a pharmacy of another organization.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
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
        "pharmacy_profiles",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("address_line", sa.String(length=200), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("city_folded", sa.String(length=100), nullable=False),
        sa.Column("postal_code", sa.String(length=20), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        *_base("pharmacy_profiles"),
        _fk("pharmacy_profiles", "organization_id", "organizations", "CASCADE"),
        sa.UniqueConstraint("organization_id", name="uq_pharmacy_profiles_organization_id"),
    )
    op.create_index("ix_pharmacy_profiles_city_folded", "pharmacy_profiles", ["city_folded"])

    op.create_table(
        "prescription_policies",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("default_validity_days", sa.Integer(), nullable=False),
        sa.Column("schedule_v_max_refills", sa.Integer(), nullable=False),
        sa.Column("schedule_v_max_days", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        _fk("prescription_policies", "organization_id", "organizations", "CASCADE"),
        sa.PrimaryKeyConstraint("organization_id", name="pk_prescription_policies"),
    )

    op.create_table(
        "prescriptions",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("prescriber_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=True),
        sa.Column("pharmacy_id", sa.Uuid(), nullable=False),
        sa.Column("medication_name", sa.Text(), nullable=False),
        sa.Column("medication_strength", sa.Text(), nullable=False),
        sa.Column("dose_form", sa.Text(), nullable=False),
        sa.Column("rxnorm_code", sa.Text(), nullable=True),
        sa.Column("directions", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("quantity_milli", sa.BigInteger(), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("days_supply", sa.Integer(), nullable=False),
        sa.Column("refills_allowed", sa.Integer(), nullable=False),
        sa.Column("substitution_allowed", sa.Boolean(), nullable=False),
        sa.Column("schedule", sa.String(length=4), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("earliest_fill_on", sa.Date(), nullable=True),
        sa.Column("document_object_id", sa.Uuid(), nullable=True),
        sa.Column("document_filename", sa.Text(), nullable=True),
        sa.Column("document_content_type", sa.String(length=127), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("fill_status", sa.String(length=20), nullable=False),
        sa.Column("fills_released", sa.Integer(), nullable=False),
        sa.Column("dispensed_milli", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("signed_at", UTC_TIME, nullable=True),
        sa.Column("signed_with_second_factor", sa.Boolean(), nullable=False),
        sa.Column("verification_generation", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        *_base("prescriptions"),
        _fk("prescriptions", "organization_id", "organizations"),
        _fk("prescriptions", "patient_id", "patients"),
        _fk("prescriptions", "prescriber_id", "users"),
        _fk("prescriptions", "author_id", "users", "SET NULL"),
        _fk("prescriptions", "pharmacy_id", "organizations"),
        _fk("prescriptions", "document_object_id", "encrypted_objects"),
        sa.UniqueConstraint("number", name="uq_prescriptions_number"),
        sa.UniqueConstraint("document_object_id", name="uq_prescriptions_document_object_id"),
        sa.CheckConstraint(
            "dispensed_milli >= 0 AND dispensed_milli <= quantity_milli * (1 + refills_allowed)",
            name="ck_prescriptions_dispensed_within_authorised",
        ),
    )
    op.create_index(
        "ix_prescriptions_patient", "prescriptions", ["organization_id", "patient_id", "created_at"]
    )
    op.create_index("ix_prescriptions_pharmacy", "prescriptions", ["pharmacy_id", "status"])

    op.create_table(
        "prescription_fills",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("prescription_id", sa.Uuid(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("quantity_milli", sa.BigInteger(), nullable=False),
        sa.Column("dispensed_milli", sa.BigInteger(), nullable=False),
        sa.Column("pharmacy_id", sa.Uuid(), nullable=True),
        sa.Column("claimed_at", UTC_TIME, nullable=True),
        sa.Column("closed_at", UTC_TIME, nullable=True),
        *_base("prescription_fills"),
        _fk("prescription_fills", "organization_id", "organizations"),
        _fk("prescription_fills", "prescription_id", "prescriptions", "CASCADE"),
        _fk("prescription_fills", "pharmacy_id", "organizations"),
        sa.UniqueConstraint(
            "prescription_id", "sequence", name="uq_prescription_fills_prescription_id"
        ),
        sa.CheckConstraint(
            "dispensed_milli >= 0 AND dispensed_milli <= quantity_milli",
            name="ck_prescription_fills_dispensed_within_fill",
        ),
    )
    op.create_index(
        "ix_prescription_fills_prescription_id", "prescription_fills", ["prescription_id"]
    )

    op.create_table(
        "prescription_dispenses",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("prescription_id", sa.Uuid(), nullable=False),
        sa.Column("fill_id", sa.Uuid(), nullable=False),
        sa.Column("pharmacy_id", sa.Uuid(), nullable=False),
        sa.Column("pharmacist_id", sa.Uuid(), nullable=True),
        sa.Column("quantity_milli", sa.BigInteger(), nullable=False),
        sa.Column("remaining_milli", sa.BigInteger(), nullable=False),
        *_base("prescription_dispenses"),
        _fk("prescription_dispenses", "organization_id", "organizations"),
        _fk("prescription_dispenses", "prescription_id", "prescriptions", "CASCADE"),
        _fk("prescription_dispenses", "fill_id", "prescription_fills", "CASCADE"),
        _fk("prescription_dispenses", "pharmacy_id", "organizations"),
        _fk("prescription_dispenses", "pharmacist_id", "users", "SET NULL"),
        sa.CheckConstraint("quantity_milli > 0", name="ck_prescription_dispenses_positive"),
    )
    op.create_index(
        "ix_prescription_dispenses_prescription_id",
        "prescription_dispenses",
        ["prescription_id"],
    )
    op.create_index("ix_prescription_dispenses_fill_id", "prescription_dispenses", ["fill_id"])

    op.create_table(
        "prescription_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("prescription_id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", UTC_TIME, nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_name", sa.String(length=200), nullable=False),
        sa.Column("acting_organization_id", sa.Uuid(), nullable=True),
        sa.Column("from_state", sa.String(length=64), nullable=False),
        sa.Column("to_state", sa.String(length=64), nullable=False),
        sa.Column("reason_code", sa.String(length=32), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("quantity_milli", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_prescription_events"),
        _fk("prescription_events", "organization_id", "organizations"),
        _fk("prescription_events", "prescription_id", "prescriptions", "CASCADE"),
        _fk("prescription_events", "actor_id", "users", "SET NULL"),
        _fk("prescription_events", "acting_organization_id", "organizations", "SET NULL"),
    )
    op.create_index(
        "ix_prescription_events_rx", "prescription_events", ["prescription_id", "occurred_at"]
    )

    op.create_table(
        "prescription_grants",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("prescription_id", sa.Uuid(), nullable=False),
        sa.Column("grantee_organization_id", sa.Uuid(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("revoked_at", UTC_TIME, nullable=True),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        *_base("prescription_grants"),
        _fk("prescription_grants", "organization_id", "organizations"),
        _fk("prescription_grants", "prescription_id", "prescriptions", "CASCADE"),
        _fk("prescription_grants", "grantee_organization_id", "organizations", "CASCADE"),
        sa.UniqueConstraint(
            "prescription_id",
            "grantee_organization_id",
            name="uq_prescription_grants_prescription_id",
        ),
    )
    op.create_index(
        "ix_prescription_grants_grantee",
        "prescription_grants",
        ["grantee_organization_id", "scope"],
    )


def downgrade() -> None:
    op.drop_table("prescription_grants")
    op.drop_table("prescription_events")
    op.drop_table("prescription_dispenses")
    op.drop_table("prescription_fills")
    op.drop_table("prescriptions")
    op.drop_table("prescription_policies")
    op.drop_table("pharmacy_profiles")
