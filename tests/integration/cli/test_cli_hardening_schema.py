"""Migration 0004 on both databases, its fit with the models, and `users create` by org kind."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from tests.integration.cli.conftest import Cli

from clinvault.migrate import alembic_config, upgrade
from clinvault.models import Base

NOW = "2026-01-01 00:00:00"


def _id(cli: Cli, value: uuid.UUID) -> str:
    return value.hex if cli.settings.is_sqlite else str(value)


def _practitioner(cli: Cli, npi: str) -> None:
    """A provider, a doctor and the doctor's profile, written as of revision 0003."""
    org, user, profile = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    cli.sql(
        "INSERT INTO organizations (id, name, slug, kind, allow_patient_registration, is_active,"
        " created_at) VALUES (:id, 'Clinic', :slug, 'provider', FALSE, TRUE, :now)",
        id=_id(cli, org),
        slug=f"clinic-{org.hex[:8]}",
        now=NOW,
    )
    legacy = "failed_logins" in _columns(cli, "users")
    cli.sql(
        "INSERT INTO users (id, organization_id, email, display_name, roles, is_active, is_demo,"
        f" mfa_enabled, {'failed_logins, ' if legacy else ''}updated_at, created_at) VALUES"
        f" (:id, :org, :email, 'Doc', '[\"doctor\"]', TRUE, FALSE, FALSE, {'0, ' if legacy else ''}"
        " :now, :now)",
        id=_id(cli, user),
        org=_id(cli, org),
        email=f"{user.hex[:8]}@example.org",
        now=NOW,
    )
    cli.sql(
        "INSERT INTO practitioner_profiles (id, organization_id, user_id, npi, specialty,"
        " updated_at, created_at) VALUES (:id, :org, :user, :npi, '', :now, :now)",
        id=_id(cli, profile),
        org=_id(cli, org),
        user=_id(cli, user),
        npi=npi,
        now=NOW,
    )


def _columns(cli: Cli, table: str) -> set[str]:
    engine = sa.create_engine(
        cli.settings.database_url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg")
    )
    try:
        return {column["name"] for column in sa.inspect(engine).get_columns(table)}
    finally:
        engine.dispose()


def test_upgrade_moves_lockout_out_of_users_and_downgrade_restores_it(fresh_cli: Cli) -> None:
    upgrade(fresh_cli.settings, "0003")
    _practitioner(fresh_cli, "1234567893")
    upgrade(fresh_cli.settings, "0004")
    assert {"failed_logins", "locked_until"}.isdisjoint(_columns(fresh_cli, "users"))
    assert {"key", "scope", "failures", "last_failure_at", "locked_until"} == _columns(
        fresh_cli, "sign_in_throttles"
    )
    with pytest.raises(sa.exc.IntegrityError):
        _practitioner(fresh_cli, "1234567893")
    fresh_cli.ok("migrate")  # the later revisions apply on top
    command.downgrade(alembic_config(fresh_cli.settings), "0003")
    assert {"failed_logins", "locked_until"} <= _columns(fresh_cli, "users")
    _practitioner(fresh_cli, "1234567893")  # no unique index any more
    assert {row[0] for row in fresh_cli.sql("SELECT failed_logins FROM users")} == {0}


def test_upgrade_refuses_duplicate_npis_with_the_query_to_find_them(fresh_cli: Cli) -> None:
    upgrade(fresh_cli.settings, "0003")
    _practitioner(fresh_cli, "1234567893")
    _practitioner(fresh_cli, "1234567893")
    with pytest.raises(RuntimeError, match=r"1 NPI\(s\) are held by more than one") as raised:
        upgrade(fresh_cli.settings, "0004")
    assert "GROUP BY npi HAVING count(*) > 1" in str(raised.value)
    fresh_cli.sql("UPDATE practitioner_profiles SET npi = NULL WHERE npi IS NOT NULL")
    upgrade(fresh_cli.settings, "head")


def test_the_migrated_schema_matches_the_models(cli: Cli) -> None:
    engine = sa.create_engine(
        cli.settings.database_url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg")
    )
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_users_create_refuses_a_role_outside_the_organization_kind(cli: Cli) -> None:
    cli.ok("orgs", "create", "--name", "Corner Pharmacy", "--slug", "corner", "--kind", "pharmacy")
    refused = cli.run(
        "users",
        "create",
        "--email",
        "doc@example.org",
        "--org",
        "corner",
        "--role",
        "doctor",
        "--no-password",
    )
    assert refused.returncode != 0
    assert "A pharmacy organization's members can hold these roles" in refused.stderr
    assert "'doctor'" in refused.stderr
    assert cli.sql("SELECT email FROM users") == []
    out = cli.ok(
        "users",
        "create",
        "--email",
        "ph@example.org",
        "--org",
        "corner",
        "--role",
        "pharmacist",
        "--no-password",
    )
    assert "with roles pharmacist" in out
