"""`audit verify` exit codes and `audit export` output."""

from __future__ import annotations

import json

from tests.integration.cli.conftest import Cli


def _seed(cli: Cli) -> None:
    cli.ok("demo", "--password", "a demo password")
    cli.ok("orgs", "create", "--name", "Northside", "--slug", "northside", "--kind", "provider")
    cli.ok("orgs", "create", "--name", "Eastside", "--slug", "eastside", "--kind", "pharmacy")


def test_verify_passes_then_fails_after_an_edit_in_sql(cli: Cli) -> None:
    _seed(cli)
    result = cli.run("audit", "verify")
    assert result.returncode == 0, result.stdout + result.stderr
    recorded = cli.sql("SELECT count(*) FROM audit_events")[0][0]
    assert recorded > 4
    assert result.stdout.startswith(f"audit chain intact: {recorded} events")

    first = cli.sql("SELECT min(seq) FROM audit_events")[0][0]
    cli.sql("UPDATE audit_events SET action = 'organization.delete' WHERE seq = :seq", seq=first)
    broken = cli.run("audit", "verify")
    assert broken.returncode == 1
    assert "audit chain BROKEN" in broken.stdout
    assert f"first bad event: kind=edited seq={first}" in broken.stdout
    assert "Traceback" not in broken.stderr


def test_export_writes_one_json_object_per_event(cli: Cli) -> None:
    _seed(cli)
    target = cli.home / "export" / "audit.ndjson"
    target.parent.mkdir()
    result = cli.run("audit", "export", "--out", str(target))
    assert result.returncode == 0, result.stderr
    stored = [row[0] for row in cli.sql("SELECT action FROM audit_events ORDER BY seq")]
    assert result.stderr.strip() == f"exported {len(stored)} events"
    events = [json.loads(line) for line in target.read_text().splitlines()]
    assert [e["action"] for e in events] == stored
    assert stored[:2] == ["demo.seed", "demo.records"]
    assert stored[-2:] == ["organization.create", "organization.create"]
    assert all(e["method"] == "CLI" for e in events)


def test_export_to_stdout_filtered_by_organization_and_time(cli: Cli) -> None:
    _seed(cli)
    org_id = cli.sql("SELECT id FROM organizations WHERE slug = 'northside'")[0][0]
    result = cli.run("audit", "export", "--out", "-", "--org", "northside")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 1
    assert str(lines[0]["organization_id"]).replace("-", "") == str(org_id).replace("-", "")

    none = cli.run("audit", "export", "--out", "-", "--since", "2999-01-01T00:00:00Z")
    assert none.returncode == 0
    assert none.stdout == ""

    naive = cli.run("audit", "export", "--out", "-", "--since", "2025-01-01")
    assert naive.returncode == 2
    assert "time zone" in naive.stderr

    unknown = cli.run("audit", "export", "--out", "-", "--org", "nowhere")
    assert unknown.returncode == 1
    assert "nowhere" in unknown.stderr
