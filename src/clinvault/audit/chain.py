"""Link MACed audit events into one keyed hash chain, in order, off the hot path.

Requests insert events with a row MAC and no lock. The chainer takes the
unchained events in sequence order, gives each the next chain position and
chain_hash = HMAC(key, previous chain_hash || row MAC), then appends a
checkpoint (position, hash) to a sink outside the database. One chainer runs
at a time: PostgreSQL serializes it with an advisory lock, SQLite with its
single writer.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from pathlib import Path

import structlog
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.db import Database
from clinvault.models.audit import AuditEvent
from clinvault.timeutil import utcnow

log = structlog.get_logger(__name__)

GENESIS = "0" * 64
_ADVISORY_LOCK_ID = 0x636C6E76  # "clnv"
BATCH = 500


def link_hash(key: bytes, previous: str, mac: str) -> str:
    return hmac.new(key, f"{previous}:{mac}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class Checkpoint:
    chain_seq: int
    chain_hash: str
    at: str

    def line(self) -> str:
        return json.dumps(
            {"chain_seq": self.chain_seq, "chain_hash": self.chain_hash, "at": self.at}
        )


class CheckpointFile:
    """Append-only NDJSON checkpoints, fsynced, kept outside the database."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, checkpoint: Checkpoint) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(checkpoint.line() + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def read(self) -> list[Checkpoint]:
        if not self.path.exists():
            return []
        checkpoints = []
        for raw in self.path.read_text(encoding="utf-8").splitlines():
            if raw.strip():
                data = json.loads(raw)
                checkpoints.append(
                    Checkpoint(int(data["chain_seq"]), str(data["chain_hash"]), str(data["at"]))
                )
        return checkpoints


async def _lock(session: AsyncSession) -> None:
    if session.bind.dialect.name == "postgresql":
        await session.execute(text(f"SELECT pg_advisory_xact_lock({_ADVISORY_LOCK_ID})"))


async def chain_pending(db: Database, key: bytes, sink: CheckpointFile) -> int:
    """Chain every committed, unchained event; return how many were linked."""
    linked = 0
    while True:
        async with db.unit_of_work() as session:
            await _lock(session)
            last = (
                await session.execute(
                    select(AuditEvent.chain_seq, AuditEvent.chain_hash)
                    .where(AuditEvent.chain_seq.is_not(None))
                    .order_by(AuditEvent.chain_seq.desc())
                    .limit(1)
                )
            ).first()
            position = int(last[0]) if last else 0
            previous = str(last[1]) if last else GENESIS
            pending = (
                await session.scalars(
                    select(AuditEvent)
                    .where(AuditEvent.chain_seq.is_(None))
                    .order_by(AuditEvent.seq)
                    .limit(BATCH)
                )
            ).all()
            for event in pending:
                position += 1
                previous = link_hash(key, previous, event.mac)
                event.chain_seq = position
                event.chain_hash = previous
        if pending:
            sink.append(Checkpoint(position, previous, utcnow().isoformat()))
            linked += len(pending)
        if len(pending) < BATCH:
            return linked


async def count_unchained(db: Database) -> int:
    async with db.sessions() as session:
        result = await session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.chain_seq.is_(None))
        )
        return int(result or 0)


class AuditChainer:
    """Background task that chains new events every `interval` seconds."""

    def __init__(self, db: Database, key: bytes, sink: CheckpointFile, interval: float) -> None:
        self._db = db
        self._key = key
        self._sink = sink
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="audit-chainer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        await self.run_once()

    async def run_once(self) -> int:
        try:
            return await chain_pending(self._db, self._key, self._sink)
        except Exception:
            log.exception("audit.chain.failed")
            return 0

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self.run_once()
