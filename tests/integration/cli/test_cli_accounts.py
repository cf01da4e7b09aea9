"""`migrate`, `orgs create`, `users create`, `demo`, and how commands fail."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from tests.integration.cli.conftest import Cli

DEMO_EMAILS = {
    "admin@healthcare.com": "org_admin",
    "doctor@healthcare.com": "doctor",
    "nurse@healthcare.com": "nurse",
    "clerk@healthcare.com": "clerk",
    "reviewer@healthcare.com": "credentialing_reviewer",
    "patient@healthcare.com": "patient",
    "pharmacist@healthcare.com": "pharmacist",
    "partner.doctor@healthcare.com": "doctor",
}


def test_migrate_creates_the_schema_and_is_repeatable(fresh_cli: Cli) -> None:
    assert "up to date" in fresh_cli.ok("migrate")
    assert "up to date" in fresh_cli.ok("migrate")
    tables = {
        row[0]
        for row in fresh_cli.sql(
            "SELECT table_name FROM information_schema.tables"
            if not fresh_cli.settings.is_sqlite
            else "SELECT name FROM sqlite_master WHERE type = 'table'"
        )
    }
    assert {"organizations", "users", "audit_events", "encrypted_objects"} <= tables


def test_orgs_create_then_a_duplicate_slug_is_refused(cli: Cli) -> None:
    out = cli.ok(
        "orgs",
        "create",
        "--name",
        "Northside Clinic",
        "--slug",
        "northside",
        "--kind",
        "provider",
        "--allow-patient-registration",
    )
    assert out.startswith("created organization northside (provider)")
    rows = cli.sql(
        "SELECT kind, allow_patient_registration FROM organizations WHERE slug = :s", s="northside"
    )
    assert [(row[0], bool(row[1])) for row in rows] == [("provider", True)]

    again = cli.run(
        "orgs", "create", "--name", "Other", "--slug", "northside", "--kind", "pharmacy"
    )
    assert again.returncode == 1
    assert again.stderr.startswith("error: ")
    assert "taken" in again.stderr
    assert "Traceback" not in again.stderr


def test_orgs_create_rejects_a_malformed_slug_as_usage(cli: Cli) -> None:
    result = cli.run("orgs", "create", "--name", "X", "--slug", "Not A Slug", "--kind", "provider")
    assert result.returncode == 2
    assert "--slug" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_users_create_in_an_organization_with_several_roles(cli: Cli) -> None:
    cli.ok("orgs", "create", "--name", "Northside", "--slug", "northside", "--kind", "provider")
    out = cli.ok(
        "users",
        "create",
        "--email",
        "Dana@Example.org",
        "--org",
        "northside",
        "--role",
        "doctor",
        "--role",
        "nurse",
        "--password",
        "a long enough passphrase",
    )
    assert "in northside with roles doctor, nurse" in out
    rows = cli.sql("SELECT email, is_demo, password_hash FROM users")
    assert len(rows) == 1
    assert rows[0][0] == "dana@example.org"
    assert not rows[0][1]
    assert str(rows[0][2]).startswith("$argon2id$")


def test_users_create_prompts_for_the_password(cli: Cli) -> None:
    cli.ok("orgs", "create", "--name", "Northside", "--slug", "northside", "--kind", "provider")
    result = cli.run(
        "users",
        "create",
        "--email",
        "clerk@example.org",
        "--org",
        "northside",
        "--role",
        "clerk",
        stdin="typed at the prompt 1\ntyped at the prompt 1\n",
    )
    assert result.returncode == 0, result.stderr
    assert cli.sql("SELECT count(*) FROM users")[0][0] == 1


def test_users_create_refuses_unknown_org_and_weak_password(cli: Cli) -> None:
    missing = cli.run(
        "users",
        "create",
        "--email",
        "a@example.org",
        "--org",
        "nowhere",
        "--role",
        "doctor",
        "--password",
        "a long enough passphrase",
    )
    assert missing.returncode == 1
    assert "nowhere" in missing.stderr

    cli.ok("orgs", "create", "--name", "Northside", "--slug", "northside", "--kind", "provider")
    weak = cli.run(
        "users",
        "create",
        "--email",
        "a@example.org",
        "--org",
        "northside",
        "--role",
        "doctor",
        "--password",
        "short",
    )
    assert weak.returncode == 1
    assert "at least 12 characters" in weak.stderr
    assert cli.sql("SELECT count(*) FROM users")[0][0] == 0


def test_platform_admin_gets_the_platform_organization_once(cli: Cli) -> None:
    for email in ("root@example.org", "ops@example.org"):
        out = cli.ok(
            "users",
            "create",
            "--email",
            email,
            "--platform-admin",
            "--password",
            "a long enough passphrase",
        )
        assert "in platform with roles admin" in out
    orgs = cli.sql("SELECT slug, kind FROM organizations")
    assert [tuple(row) for row in orgs] == [("platform", "platform")]
    roles = cli.sql("SELECT roles FROM users ORDER BY email")
    assert all("admin" in str(row[0]) for row in roles)


def test_demo_twice_keeps_one_set_of_accounts_with_the_kept_password(cli: Cli) -> None:
    first = cli.ok("demo", "--password", "first demo password")
    for email, role in DEMO_EMAILS.items():
        assert re.search(rf"{re.escape(email)}\s+{role}\s+first demo password", first)
    assert "http://127.0.0.1:8000/" in first

    # A given password is kept: the next run without one prints and sets it again.
    again = cli.ok("demo")
    assert "password for all: first demo password)" in again
    second = cli.ok("demo", "--new-password")
    generated = re.search(r"password for all: (\S+)\)", second)
    assert generated is not None
    assert len(generated.group(1)) >= 20
    assert "password reset" in second

    orgs = cli.sql("SELECT slug, kind, allow_patient_registration FROM organizations ORDER BY slug")
    assert [(r[0], r[1], bool(r[2])) for r in orgs] == [
        ("demo-health", "provider", True),
        ("demo-partner-clinic", "provider", False),
        ("demo-pharmacy", "pharmacy", False),
    ]
    users = cli.sql(
        "SELECT u.email, o.slug, u.is_demo FROM users u "
        "JOIN organizations o ON o.id = u.organization_id"
    )
    assert {row[0] for row in users} == set(DEMO_EMAILS)
    assert all(bool(row[2]) for row in users)
    by_email = {row[0]: row[1] for row in users}
    assert by_email["pharmacist@healthcare.com"] == "demo-pharmacy"
    assert by_email["partner.doctor@healthcare.com"] == "demo-partner-clinic"
    hashes = cli.sql("SELECT password_hash FROM users")
    assert all(PasswordHasher().verify(str(row[0]), generated.group(1)) for row in hashes)


def test_demo_is_refused_where_demo_accounts_are_disabled(cli: Cli) -> None:
    result = cli.run("demo", env={"CLINVAULT_DEMO_ENABLED": "false"})
    assert result.returncode == 1
    assert "disabled" in result.stderr
    assert cli.sql("SELECT count(*) FROM users")[0][0] == 0


def test_bad_configuration_is_one_line_and_exit_2(cli: Cli) -> None:
    result = cli.run(
        "orgs",
        "create",
        "--name",
        "X",
        "--slug",
        "xx",
        "--kind",
        "provider",
        env={"CLINVAULT_MAIL_URL": "gopher://mail"},
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: configuration: ")
    assert len(result.stderr.strip().splitlines()) == 1

    production = cli.run("migrate", env={"CLINVAULT_ENV": "production"})
    assert production.returncode == 2
    assert "unsafe production configuration" in production.stderr
    assert "Traceback" not in production.stderr
