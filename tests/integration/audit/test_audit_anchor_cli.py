"""`clinvault audit verify` and `audit keygen` run as an operator would, in a child process."""

from __future__ import annotations

import json

import pytest
from tests.integration.cli.conftest import Cli, cli, cli_database_url, fresh_cli

__all__ = ["cli", "cli_database_url", "fresh_cli"]


@pytest.fixture
def anchored_cli(cli: Cli) -> Cli:
    anchors = cli.home.parent / "other-host" / "anchors"
    cli.env = {
        **cli.env,
        "CLINVAULT_AUDIT_ANCHOR_URL": f"file://{anchors}",
        "CLINVAULT_AUDIT_ANCHOR_INTERVAL_SECONDS": "0",
    }
    return cli


def _create_orgs(cli: Cli, *slugs: str) -> None:
    for slug in slugs:
        cli.ok("orgs", "create", "--name", slug.title(), "--slug", slug, "--kind", "provider")


def test_verify_names_the_anchor_and_refuses_a_log_cut_with_its_checkpoints(
    anchored_cli: Cli,
) -> None:
    cli = anchored_cli
    _create_orgs(cli, "north", "south")
    first = cli.run("audit", "verify")
    assert first.returncode == 0, first.stdout + first.stderr
    _create_orgs(cli, "east", "west")
    second = cli.run("audit", "verify")
    assert second.returncode == 0, second.stdout + second.stderr
    lines = second.stdout.splitlines()
    assert lines[0] == "audit chain intact: 4 events and 2 checkpoints verified"
    assert lines[1].startswith("newest anchored checkpoint: chain_seq 4 written ")
    assert "other-host/anchors" in lines[1]
    assert lines[2].startswith("checkpoint signatures checked with audit key ")

    cli.sql("DELETE FROM audit_events WHERE chain_seq > 2")
    checkpoints = cli.home / "audit" / "checkpoints.ndjson"
    kept = [
        line for line in checkpoints.read_text().splitlines() if json.loads(line)["chain_seq"] <= 2
    ]
    checkpoints.write_text("".join(f"{line}\n" for line in kept))

    local_only = cli.run("audit", "verify", env={"CLINVAULT_AUDIT_ANCHOR_URL": ""})
    assert local_only.returncode == 0, "the local file alone no longer shows the cut"

    broken = cli.run("audit", "verify")
    assert broken.returncode == 1
    assert broken.stdout.startswith(
        "audit chain BROKEN: the log is shorter than its anchor: events after chain_seq 2 "
        "are missing"
    )
    assert "newest anchored checkpoint: chain_seq 4" in broken.stdout
    assert "first bad event: kind=truncated chain_seq=3" in broken.stdout
    assert "Traceback" not in broken.stderr


def test_keygen_creates_a_pair_once(cli: Cli) -> None:
    private = cli.home.parent / "vault" / "audit-signing.pem"
    env = {"CLINVAULT_AUDIT_SIGNING_KEY_PATH": str(private)}
    created = cli.run("audit", "keygen", env=env)
    assert created.returncode == 0, created.stderr
    assert f"audit signing key {private} created (key " in created.stdout
    assert private.stat().st_mode & 0o777 == 0o600
    assert private.with_suffix(".pub").exists()
    again = cli.run("audit", "keygen", env=env)
    assert again.returncode == 2
    assert "already exists; it is never overwritten" in again.stderr
