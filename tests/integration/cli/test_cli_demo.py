"""`demo` on a new home: it migrates, prints its logins without log lines, keeps its password,
prints the configured address, and seeds care plans shared between two organizations once."""

from __future__ import annotations

import os
import pty
import re
import stat
import subprocess
import uuid

from tests.integration.cli.conftest import COMMAND_TIMEOUT, ROOT, Cli

COUNTED = (
    "organizations",
    "users",
    "patients",
    "prescriptions",
    "care_plans",
    "care_plan_versions",
    "care_plan_shares",
    "care_plan_comments",
)


def counts(cli: Cli) -> dict[str, int]:
    return {table: cli.sql(f"SELECT count(*) FROM {table}")[0][0] for table in COUNTED}


def printed_password(output: str) -> str:
    found = re.search(r"password for all: (\S+)\)", output)
    assert found is not None, output
    return found.group(1)


def test_demo_before_migrate_migrates_and_a_second_run_changes_nothing(fresh_cli: Cli) -> None:
    # Info-level logging asked for, as a newcomer's shell would have it; stderr is a pipe.
    first = fresh_cli.run("demo", env={"CLINVAULT_LOG_LEVEL": "INFO"})
    assert first.returncode == 0, first.stderr
    assert "Traceback" not in first.stderr
    # The services' info lines stay out of the way: nothing is printed before the logins.
    assert first.stderr == ""
    assert first.stdout.startswith("Demo logins (password for all: ")
    assert "Demo care plans: 4 created" in first.stdout
    password = printed_password(first.stdout)
    assert len(password) >= 20

    # The password is kept, readable by its owner only, and printed again next time.
    kept = fresh_cli.home / "demo-password"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert kept.read_text().strip() == password
    before = counts(fresh_cli)
    assert before["care_plans"] == 4
    assert before["organizations"] == 3

    second = fresh_cli.ok("demo")
    assert printed_password(second) == password
    assert "Demo care plans: 0 created (already there)" in second
    assert "Demo patients: 0 created" in second
    assert counts(fresh_cli) == before
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert kept.read_text().strip() == password

    # --new-password replaces the kept one; the file stays 0600.
    third = fresh_cli.ok("demo", "--new-password")
    assert printed_password(third) != password
    assert kept.read_text().strip() == printed_password(third)
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600


def test_demo_refuses_a_password_and_a_new_one_together(cli: Cli) -> None:
    result = cli.run("demo", "--password", "a long demo password", "--new-password")
    assert result.returncode == 2
    assert result.stderr.startswith("error: give --password or --new-password")
    assert not (cli.home / "demo-password").exists()


def test_demo_prints_the_address_serve_will_use(cli: Cli) -> None:
    # No public URL configured: the address is serve's, from CLINVAULT_HOST and CLINVAULT_PORT.
    env = {"CLINVAULT_PUBLIC_URL": "", "CLINVAULT_HOST": "127.0.0.1", "CLINVAULT_PORT": "9137"}
    out = cli.run("demo", "--password", "a long demo password", env=env)
    assert out.returncode == 0, out.stderr
    assert "Sign in at http://127.0.0.1:9137/" in out.stdout
    assert "8000" not in out.stdout

    # A public URL set on purpose (a proxy in front) is printed, with where serve listens.
    env["CLINVAULT_PUBLIC_URL"] = "https://clinic.example.org"
    out = cli.run("demo", env=env)
    assert out.returncode == 0, out.stderr
    assert "Sign in at https://clinic.example.org/" in out.stdout
    assert "`clinvault serve` listens on http://127.0.0.1:9137" in out.stdout


def test_demo_care_plans_are_shared_at_three_levels_with_history(cli: Cli) -> None:
    cli.ok("demo", "--password", "a long demo password")
    partner = cli.sql("SELECT id FROM organizations WHERE slug = 'demo-partner-clinic'")[0][0]
    health = cli.sql("SELECT id FROM organizations WHERE slug = 'demo-health'")[0][0]
    shares = cli.sql(
        "SELECT organization_id, grantee_organization_id, grantee_user_id, level, "
        "accepted_at, revoked_at, expires_at FROM care_plan_shares"
    )
    assert len(shares) == 4
    assert all(row[4] is not None and row[5] is None and row[6] is not None for row in shares)
    outgoing = sorted((row[3], row[2] is not None) for row in shares if str(row[0]) == str(health))
    assert outgoing == [("comment", False), ("edit", False), ("view", True)]
    assert all(str(row[1]) == str(partner) for row in shares if str(row[0]) == str(health))
    incoming = [row[3] for row in shares if str(row[0]) == str(partner)]
    assert incoming == ["comment"]

    versions = sorted(
        row[0] for row in cli.sql("SELECT max(number) FROM care_plan_versions GROUP BY plan_id")
    )
    assert versions == [2, 2, 2, 3]
    # The partner clinic's doctor wrote a version of a Demo Health plan through the share.
    edited = cli.sql(
        "SELECT count(*) FROM care_plan_versions WHERE organization_id = :h "
        "AND acting_organization_id = :p",
        h=health,
        p=partner,
    )[0][0]
    assert edited == 1
    assert cli.sql("SELECT count(*) FROM care_plan_comments")[0][0] >= 7
    replies = cli.sql("SELECT count(*) FROM care_plan_comments WHERE parent_id IS NOT NULL")
    assert replies[0][0] == 2
    resolved = cli.sql("SELECT count(*) FROM care_plan_comments WHERE resolved_at IS NOT NULL")
    assert resolved[0][0] == 1

    # Contents are stored encrypted, never as the words written.
    raw = " ".join(str(row) for row in cli.sql("SELECT title, content FROM care_plans"))
    assert "diabetes" not in raw.lower()
    # The other organization's accesses are in the owner's audit log, naming it.
    foreign = cli.sql(
        "SELECT count(*) FROM audit_events WHERE organization_id = :h AND detail LIKE :d",
        h=health,
        d=f"%acting_organization={uuid.UUID(str(partner))}%",
    )[0][0]
    assert foreign >= 3
    # Watchers were told: the demo doctor has in-app notifications of the partner's work.
    told = cli.sql(
        "SELECT count(*) FROM notifications n JOIN users u ON u.id = n.user_id "
        "WHERE u.email = 'doctor@healthcare.com' AND n.kind LIKE 'care_plan.%'"
    )[0][0]
    assert told >= 2


def _stderr_of(cli: Cli, *args: str, terminal: bool) -> str:
    """The command's stderr, as a terminal (a pseudo-terminal) or as a pipe."""
    if not terminal:
        return cli.run(*args, env={"CLINVAULT_LOG_LEVEL": "INFO"}).stderr
    main, side = pty.openpty()
    try:
        done = subprocess.run(
            cli.command(*args),
            cwd=ROOT,
            env={**cli.env, "CLINVAULT_LOG_LEVEL": "INFO"},
            stdout=subprocess.DEVNULL,
            stderr=side,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
        assert done.returncode == 0
        os.close(side)
        side = -1
        chunks = []
        while True:
            try:
                chunk = os.read(main, 4096)
            except OSError:  # the terminal's other side is closed: all was read
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks).decode()
    finally:
        os.close(main)
        if side != -1:
            os.close(side)


def test_logs_are_readable_lines_on_a_terminal_and_json_otherwise(cli: Cli) -> None:
    piped = _stderr_of(cli, "migrate", terminal=False)
    lines = [line for line in piped.splitlines() if line.strip()]
    assert lines, piped
    assert all(line.startswith("{") for line in lines), piped
    assert '"event": "clinvault.container.built"' in piped

    # Coloured for the terminal; without the colours, one readable line per event.
    shown = re.sub(r"\x1b\[[0-9;]*m", "", _stderr_of(cli, "migrate", terminal=True))
    assert "clinvault.container.built" in shown
    assert '"event"' not in shown
    assert re.search(r"\[info\s*\] clinvault\.container\.built", shown), shown
