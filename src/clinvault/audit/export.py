"""Export audit events as NDJSON: one JSON object per event, in sequence order."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from clinvault.audit import repository
from clinvault.db import Database
from clinvault.models.audit import AuditEvent

BATCH = 1000


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def event_record(event: AuditEvent) -> dict[str, Any]:
    """Every column of the event, JSON-ready (ISO 8601 UTC times, UUIDs as text)."""
    return {name: _json_value(getattr(event, name)) for name in repository.COLUMNS}


def _aware(name: str, value: datetime | None) -> None:
    if value is not None and value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware, e.g. 2024-05-01T00:00:00+00:00")


async def _write(
    db: Database,
    out: TextIO,
    organization_id: uuid.UUID | None,
    since: datetime | None,
    until: datetime | None,
) -> int:
    written = 0
    after = 0
    while True:
        async with db.sessions() as session:
            batch = await repository.export_batch(
                session,
                after_seq=after,
                limit=BATCH,
                organization_id=organization_id,
                since=since,
                until=until,
            )
        if batch:
            lines = "".join(
                json.dumps(event_record(event), separators=(",", ":")) + "\n" for event in batch
            )
            await asyncio.to_thread(out.write, lines)
            written += len(batch)
            after = batch[-1].seq
        if len(batch) < BATCH:
            return written


async def export_ndjson(
    db: Database,
    out: TextIO | str | os.PathLike[str],
    *,
    organization_id: uuid.UUID | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    """Write matching events (occurred_at in [since, until)) and return how many.

    A path is written atomically: the file appears complete or not at all.
    """
    _aware("since", since)
    _aware("until", until)
    if not isinstance(out, str | os.PathLike):
        return await _write(db, out, organization_id, since, until)
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            count = await _write(db, handle, organization_id, since, until)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return count
