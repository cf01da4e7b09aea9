"""Link MACed audit events into one keyed hash chain, in order, off the hot path.

Requests insert events with a row MAC and no lock. The chainer takes the
unchained events in sequence order, gives each the next chain position and
chain_hash = HMAC(key, previous chain_hash:row MAC), then appends a checkpoint
(position, hash) to a file outside the database. One chainer runs at a time:
PostgreSQL serializes it with an advisory lock, SQLite with its write lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import structlog

from clinvault.audit import repository
from clinvault.audit.recorder import mac_is_valid
from clinvault.db import Database
from clinvault.timeutil import utcnow

log = structlog.get_logger(__name__)

GENESIS = "0" * 64
BATCH = 500
_TAIL_BYTES = 4096


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

    @classmethod
    def parse(cls, raw: str) -> Checkpoint:
        """Read one line; ValueError when it is not a well-formed checkpoint."""
        try:
            data = json.loads(raw)
            chain_seq, chain_hash = data["chain_seq"], data["chain_hash"]
        except (json.JSONDecodeError, TypeError, KeyError) as exc:
            raise ValueError(f"not a checkpoint: {exc}") from None
        if not isinstance(chain_seq, int) or isinstance(chain_seq, bool) or chain_seq < 1:
            raise ValueError("chain_seq must be a positive integer")
        if not isinstance(chain_hash, str) or len(chain_hash) != 64:
            raise ValueError("chain_hash must be 64 hexadecimal characters")
        return cls(chain_seq, chain_hash, str(data.get("at", "")))


class CheckpointFile:
    """Append-only NDJSON checkpoints, fsynced, kept outside the database."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, checkpoint: Checkpoint) -> None:
        created = not self.path.exists()
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (checkpoint.line() + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            directory = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)

    def size(self) -> int:
        """Bytes written so far; lines after this offset are not read by `scan`."""
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def scan(self, until: int | None = None) -> Iterator[tuple[int, Checkpoint | None]]:
        """Yield (line number, checkpoint or None when malformed), streaming.

        With `until`, stop at that byte offset, so lines appended while a
        verification runs are left for the next one.
        """
        if not self.path.exists():
            return
        with self.path.open("rb") as handle:
            consumed = 0
            for number, raw in enumerate(handle, start=1):
                consumed += len(raw)
                if until is not None and consumed > until:
                    return
                text = raw.decode("utf-8", errors="replace").strip()
                if not text:
                    continue
                try:
                    yield number, Checkpoint.parse(text)
                except ValueError:
                    yield number, None

    def last(self) -> Checkpoint | None:
        """The newest well-formed checkpoint, read from the end of the file."""
        try:
            with self.path.open("rb") as handle:
                end = handle.seek(0, os.SEEK_END)
                handle.seek(max(0, end - _TAIL_BYTES))
                tail = handle.read()
        except FileNotFoundError:
            return None
        for raw in reversed(tail.decode("utf-8", errors="replace").splitlines()):
            if raw.strip():
                try:
                    return Checkpoint.parse(raw)
                except ValueError:
                    return None
        return None

    def read(self) -> list[Checkpoint]:
        return [checkpoint for _, checkpoint in self.scan() if checkpoint is not None]


async def chain_pending(db: Database, key: bytes, sink: CheckpointFile) -> int:
    """Chain every committed, unchained event; return how many were linked.

    Nothing is linked while the newest checkpoint lies beyond the chain's last
    position: the tail was truncated, and extending the chain from there
    would only blur what `audit verify` reports.
    """
    linked = 0
    while True:
        async with db.unit_of_work() as session:
            await repository.lock_chain(session)
            head = await repository.chain_head(session)
            position, previous = head if head else (0, GENESIS)
            newest = await asyncio.to_thread(sink.last)
            if newest is not None and newest.chain_seq > position:
                log.error(
                    "audit.chain.truncated",
                    chain_head=position,
                    checkpoint_chain_seq=newest.chain_seq,
                    checkpoint_file=str(sink.path),
                )
                return linked
            pending = await repository.unchained_events(session, limit=BATCH)
            for event in pending:
                if not mac_is_valid(key, event):
                    log.error("audit.chain.mac_invalid", seq=event.seq, event_id=str(event.id))
                position += 1
                previous = link_hash(key, previous, event.mac)
                event.chain_seq = position
                event.chain_hash = previous
        if pending:
            await asyncio.to_thread(
                sink.append, Checkpoint(position, previous, utcnow().isoformat())
            )
            linked += len(pending)
        if len(pending) < BATCH:
            return linked


async def count_unchained(db: Database) -> int:
    async with db.sessions() as session:
        return await repository.count_unchained(session)


class AuditChainer:
    """Background task that chains new events every `interval` seconds."""

    def __init__(self, db: Database, key: bytes, sink: CheckpointFile, interval: float) -> None:
        self._db = db
        self._key = key
        self._sink = sink
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    @property
    def sink(self) -> CheckpointFile:
        return self._sink

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="audit-chainer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
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
