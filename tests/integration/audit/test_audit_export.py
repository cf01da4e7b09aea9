"""`audit export`: NDJSON of every column, in sequence order, streamed and filtered."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from fastapi import FastAPI

from clinvault.audit import export
from clinvault.audit.commands import run_export
from clinvault.audit.export import export_ndjson
from clinvault.audit.repository import COLUMNS
from clinvault.bootstrap import Container
from clinvault.context import RequestContext
from clinvault.timeutil import utcnow

ORG_A = uuid.UUID("01890000-0000-7000-8000-00000000000a")
ORG_B = uuid.UUID("01890000-0000-7000-8000-00000000000b")


async def record(container: Container, organization_id: uuid.UUID | None, action: str) -> None:
    ctx = RequestContext(
        request_id=f"export-{uuid.uuid4().hex[:12]}",
        method="GET",
        path="/api/things",
        client_ip="198.51.100.4",
        user_agent="exporter",
        action=action,
        organization_hint=organization_id,
    )
    async with container.db.unit_of_work() as session:
        await container.audit.record(session, ctx, 200)


@pytest.fixture
async def recorded(app: FastAPI, container: Container) -> tuple[datetime, datetime]:
    """Five events (A, B, A | A, B) with the instant of the split returned around it."""
    for org, action in ((ORG_A, "a.one"), (ORG_B, "b.one"), (ORG_A, "a.two")):
        await record(container, org, action)
    await asyncio.sleep(0.01)
    split = utcnow()
    await asyncio.sleep(0.01)
    for org, action in ((ORG_A, "a.three"), (ORG_B, "b.two")):
        await record(container, org, action)
    return split, utcnow()


def parse(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines()]


async def test_every_column_in_sequence_order(
    recorded: tuple[datetime, datetime], container: Container
) -> None:
    out = io.StringIO()
    assert await export_ndjson(container.db, out) == 5
    rows = parse(out.getvalue())
    assert [row["action"] for row in rows] == ["a.one", "b.one", "a.two", "a.three", "b.two"]
    assert all(list(row) == list(COLUMNS) for row in rows)
    seqs = [int(str(row["seq"])) for row in rows]
    assert seqs == sorted(seqs)
    first = rows[0]
    assert first["organization_id"] == str(ORG_A)
    assert isinstance(first["occurred_at"], str)
    assert datetime.fromisoformat(first["occurred_at"]).utcoffset() is not None
    assert str(first["occurred_at"]).endswith("+00:00")
    assert first["client_ip"] == "198.51.100.4"
    assert isinstance(first["mac"], str)
    assert len(first["mac"]) == 64
    assert first["chain_seq"] is None


async def test_filters_by_organization_and_time(
    recorded: tuple[datetime, datetime], container: Container
) -> None:
    split, end = recorded
    out = io.StringIO()
    assert await export_ndjson(container.db, out, organization_id=ORG_A) == 3
    assert {row["organization_id"] for row in parse(out.getvalue())} == {str(ORG_A)}
    out = io.StringIO()
    assert await export_ndjson(container.db, out, since=split) == 2
    assert [row["action"] for row in parse(out.getvalue())] == ["a.three", "b.two"]
    out = io.StringIO()
    assert await export_ndjson(container.db, out, until=split, organization_id=ORG_B) == 1
    assert [row["action"] for row in parse(out.getvalue())] == ["b.one"]
    assert await export_ndjson(container.db, io.StringIO(), since=end) == 0


async def test_a_naive_bound_is_refused(container: Container, app: FastAPI) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await export_ndjson(container.db, io.StringIO(), since=datetime(2024, 1, 1))


async def test_export_streams_in_batches_to_a_file(
    recorded: tuple[datetime, datetime],
    container: Container,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(export, "BATCH", 2)
    target = tmp_path / "out" / "audit.ndjson"
    assert await run_export(container, target) == 5
    rows = parse(target.read_text())
    assert len({row["id"] for row in rows}) == 5
    assert target.stat().st_mode & 0o077 == 0
    assert [p.name for p in target.parent.iterdir()] == ["audit.ndjson"]


async def test_a_failed_export_leaves_no_partial_file(
    recorded: tuple[datetime, datetime],
    container: Container,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = 0

    def failing_record(event: object) -> dict[str, object]:
        nonlocal calls
        calls += 1
        if calls > 3:
            raise RuntimeError("disk gone")
        return {"n": calls}

    monkeypatch.setattr(export, "BATCH", 2)
    monkeypatch.setattr(export, "event_record", failing_record)
    target = tmp_path / "audit.ndjson"
    with pytest.raises(RuntimeError, match="disk gone"):
        await run_export(container, target)
    assert list(tmp_path.iterdir()) == []
