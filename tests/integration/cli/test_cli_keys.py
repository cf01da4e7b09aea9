"""`keys rotate` re-wraps every object's data key without re-encrypting the object."""

from __future__ import annotations

from pathlib import Path

from tests.integration.cli.conftest import Cli

PROBE = "tests.integration.cli.objects_probe"


def _objects(home: Path) -> dict[str, bytes]:
    root = home / "data" / "objects"
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_rotate_rewraps_every_object_and_each_still_decrypts(cli: Cli) -> None:
    cli.ok("orgs", "create", "--name", "Northside", "--slug", "northside", "--kind", "provider")
    ids = [cli.python(PROBE, "put", "northside", f"scan {n}").strip() for n in range(3)]
    before = {
        str(r[0]): (r[1], bytes(r[2]))
        for r in cli.sql("SELECT id, key_version, wrapped_key FROM encrypted_objects")
    }
    ciphertexts = _objects(cli.home)
    assert len(ciphertexts) == 3
    assert {version for version, _ in before.values()} == {1}

    out = cli.ok("keys", "rotate", "--batch-size", "2")
    assert out.strip() == "key version 2 is current; re-wrapped 3 objects in 2 batches"

    after = {
        str(r[0]): (r[1], bytes(r[2]))
        for r in cli.sql("SELECT id, key_version, wrapped_key FROM encrypted_objects")
    }
    assert {version for version, _ in after.values()} == {2}
    assert all(after[k][1] != before[k][1] for k in before)
    assert _objects(cli.home) == ciphertexts
    for n, row_id in enumerate(ids):
        assert cli.python(PROBE, "get", row_id).strip() == f"scan {n}"


def test_rewrap_alone_adds_no_version_and_finds_nothing_left(cli: Cli) -> None:
    cli.ok("orgs", "create", "--name", "Northside", "--slug", "northside", "--kind", "provider")
    cli.python(PROBE, "put", "northside", "scan")
    cli.ok("keys", "rotate")
    assert cli.ok("keys", "rewrap").strip() == (
        "key version 2 is current; re-wrapped 0 objects in 0 batches"
    )
    events = cli.sql("SELECT action FROM audit_events ORDER BY seq")
    assert [row[0] for row in events] == ["organization.create", "keys.rotate"]
