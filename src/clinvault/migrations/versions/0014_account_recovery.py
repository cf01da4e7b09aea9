"""account_recovery

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07

Accounts: password-reset links (`password_resets`), the first-sign-in password
choice (`users.must_change_password`) and portal session activity for the idle
timeout and remembered devices (`portal_sessions`). The column is added with a
plain ALTER TABLE (ADR 0014: recreating `users` would fire its ON DELETE actions).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "password_resets",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("address_key", sa.String(length=64), nullable=False),
        sa.Column("source_key", sa.String(length=64), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("token_nonce", sa.String(length=64), nullable=False),
        sa.Column("token_key_version", sa.Integer(), nullable=False),
        sa.Column("expires_at", UTC_TIME, nullable=False),
        sa.Column("used_at", UTC_TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_password_resets"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_password_resets_user_id_users", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("token_hash", name="uq_password_resets_token_hash"),
    )
    op.create_index("ix_password_resets_user_id", "password_resets", ["user_id"])
    op.create_index("ix_password_resets_address_key", "password_resets", ["address_key"])
    op.create_index("ix_password_resets_source_key", "password_resets", ["source_key"])
    op.create_table(
        "portal_sessions",
        sa.Column("family_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("remembered", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("last_active_at", UTC_TIME, nullable=False),
        sa.Column("ends_at", UTC_TIME, nullable=True),
        sa.PrimaryKeyConstraint("family_id", name="pk_portal_sessions"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_portal_sessions_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_portal_sessions_user_id", "portal_sessions", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_portal_sessions_user_id", table_name="portal_sessions")
    op.drop_table("portal_sessions")
    for name in ("source_key", "address_key", "user_id"):
        op.drop_index(f"ix_password_resets_{name}", table_name="password_resets")
    op.drop_table("password_resets")
    op.drop_column("users", "must_change_password")
