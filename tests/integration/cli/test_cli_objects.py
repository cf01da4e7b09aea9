"""`objects reconcile` prints its counts, deletes old orphans only, and is audited."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

from tests.integration.cli.conftest import Cli

PROBE = "tests.integration.cli.objects_probe"
TWO_HOURS = 2 * 3600


def _root(cli: Cli) -> Path:
    return cli.home / "data" / "objects"


def _stored_key(cli: Cli, row_id: str) -> str:
    rows = cli.sql("SELECT storage_key FROM encrypted_objects")
    keys = [str(row[0]) for row in rows if str(row[0]).endswith(row_id)]
    assert len(keys) == 1
    return keys[0]


def _age(path: Path, age_seconds: int) -> None:
    when = time.time() - age_seconds
    os.utime(path, (when, when))


def _orphan(cli: Cli, beside: str, name: str, age_seconds: int) -> Path:
    """A 100-byte object with no row, in the same directory as the object `beside`."""
    path = _root(cli) / beside.rsplit("/", 1)[0] / name
    path.write_bytes(b"x" * 100)
    _age(path, age_seconds)
    return path


def test_reconcile_prints_counts_and_dry_run_deletes_nothing(cli: Cli) -> None:
    cli.ok("orgs", "create", "--name", "Northside", "--slug", "northside", "--kind", "provider")
    key = _stored_key(cli, cli.python(PROBE, "put", "northside", "scan").strip())
    _age(_root(cli) / key, TWO_HOURS)
    old = _orphan(cli, key, "old-orphan", TWO_HOURS)
    fresh = _orphan(cli, key, "fresh-orphan", 60)

    dry = cli.ok("objects", "reconcile", "--dry-run").strip().splitlines()
    folder = key.rsplit("/", 1)[0]
    # Each finding is named: key, size, age, and what happens to it.
    assert len(dry) == 3
    assert any(
        re.fullmatch(rf"recent   {folder}/fresh-orphan  100 bytes  age 1m0\ds  kept .*", line)
        for line in dry
    )
    assert f"orphan   {folder}/old-orphan  100 bytes  age 2h00m  would be deleted" in dry
    assert dry[2:] == [
        "checked 3 objects: 1 orphaned (dry run, 100 bytes would be freed), "
        "1 without a row yet kept (younger than 60 minutes), 0 rows missing their object"
    ]
    assert old.exists()

    done = cli.ok("objects", "reconcile", "--grace-minutes", "90").strip().splitlines()
    assert f"orphan   {folder}/old-orphan  100 bytes  age 2h00m  deleted" in done
    assert done[-1] == (
        "checked 3 objects: 1 orphaned (1 deleted, 100 bytes freed), "
        "1 without a row yet kept (younger than 90 minutes), 0 rows missing their object"
    )
    assert not old.exists()
    assert fresh.exists()
    assert (_root(cli) / key).exists()

    events = cli.sql("SELECT action, path, resource_type FROM audit_events ORDER BY seq")
    assert [tuple(row) for row in events[1:]] == [
        ("objects.reconcile", "clinvault objects reconcile --dry-run", "object_storage"),
        ("objects.reconcile", "clinvault objects reconcile", "object_storage"),
    ]


def test_a_row_without_its_object_fails_the_command_loudly(cli: Cli) -> None:
    cli.ok("orgs", "create", "--name", "Northside", "--slug", "northside", "--kind", "provider")
    row_id = cli.python(PROBE, "put", "northside", "scan").strip()
    (_root(cli) / _stored_key(cli, row_id)).unlink()

    result = cli.run("objects", "reconcile")

    assert result.returncode == 1
    assert result.stdout.strip().endswith("1 rows missing their object")
    key = _stored_key(cli, row_id)
    assert f"missing  {key}  row {row_id}  no object in storage" in result.stdout.splitlines()
    assert f"restore them from a backup: {row_id}" in result.stderr
    logged = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    missing = [event for event in logged if event["event"] == "storage.object.missing"]
    assert [(event["level"], event["object_id"]) for event in missing] == [("error", row_id)]
    assert cli.sql("SELECT count(*) FROM encrypted_objects")[0][0] == 1


def test_a_grace_below_five_minutes_is_refused(cli: Cli) -> None:
    result = cli.run("objects", "reconcile", "--grace-minutes", "1")

    assert result.returncode == 2
    assert "--grace-minutes" in result.stderr
