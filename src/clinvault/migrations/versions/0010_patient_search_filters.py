"""patient_search_filters

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07

Patients: search tokens for the design's filters (gender, blood type, birth year).

No column changes: the filter tokens are rows of `patient_search_tokens` of
three new kinds ("gender", "blood_type", "birth_year"), which its `kind`
column and lookup index already hold. They are keyed digests, and a
migration holds no keys, so existing patients get theirs from the idempotent
start-up step `clinvault.records.patients.backfill` (see ADR 0021).
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
