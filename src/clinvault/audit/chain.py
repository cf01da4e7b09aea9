"""Link MACed audit events into one keyed hash chain, in order, off the hot path.

Requests insert events with a row MAC and no lock. The chainer takes the
unchained events in sequence order, gives each the next chain position and
chain_hash = HMAC(key, previous chain_hash:row MAC), then has the
checkpointer sign the new head and append it to a file outside the database
(and to the external anchor when one is configured). One chainer runs at a
time: the checkpoint file's lock orders the writers of that file, and
PostgreSQL's advisory lock (SQLite's write lock) orders the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
from collections.abc import Sequence
from typing import Any

import structlog
from sqlalchemy import Row

from clinvault.audit import repository
from clinvault.audit.checkpoints import Checkpoint, Checkpointer, CheckpointFile
from clinvault.audit.recorder import MAC_FIELDS, mac_is_valid
from clinvault.db import Database

log = structlog.get_logger(__name__)

GENESIS = "0" * 64
BATCH = 500

__all__ = [
    "BATCH",
    "GENESIS",
    "AuditChainer",
    "Checkpoint",
    "CheckpointFile",
    "Checkpointer",
    "chain_pending",
    "count_unchained",
    "link_hash",
]


def link_hash(key: bytes, previous: str, mac: str) -> str:
    return hmac.new(key, f"{previous}:{mac}".encode(), hashlib.sha256).hexdigest()


async def chain_pending(db: Database, key: bytes, checkpointer: Checkpointer) -> int:
    """Chain every committed, unchained event; return how many were linked.

    Nothing is linked while the newest checkpoint lies beyond the chain's last
    position: the tail was truncated, and extending the chain from there
    would only blur what `audit verify` reports.
    """
    async with checkpointer.exclusive():
        linked = await _chain_locked(db, key, checkpointer)
        await asyncio.to_thread(checkpointer.anchor_pending)
        return linked


async def _chain_locked(db: Database, key: bytes, checkpointer: Checkpointer) -> int:
    linked = 0
    while True:
        async with db.unit_of_work() as session:
            await repository.lock_chain(session)
            head = await repository.chain_head(session)
            position, previous = head if head else (0, GENESIS)
            newest = await asyncio.to_thread(checkpointer.last)
            if newest is not None and newest.chain_seq > position:
                log.error(
                    "audit.chain.truncated",
                    chain_head=position,
                    checkpoint_chain_seq=newest.chain_seq,
                    checkpoint_file=str(checkpointer.path),
                )
                return linked
            pending = await repository.unchained_rows(session, fields=MAC_FIELDS, limit=BATCH)
            if pending:
                # The MACs and links of a batch are CPU work: in a thread, the event loop
                # keeps serving requests between the interpreter's switches.
                links = await asyncio.to_thread(_link, key, pending, position, previous)
                await repository.link_events(session, links)
                position, previous = links[-1][1], links[-1][2]
        if pending:
            await asyncio.to_thread(checkpointer.record, position, previous)
            linked += len(pending)
        if len(pending) < BATCH:
            return linked


def _link(
    key: bytes, pending: Sequence[Row[Any]], position: int, previous: str
) -> list[tuple[int, int, str]]:
    """(seq, chain position, chain hash) of each event, continuing from the head."""
    links: list[tuple[int, int, str]] = []
    for event in pending:
        if not mac_is_valid(key, event):
            log.error("audit.chain.mac_invalid", seq=event.seq, event_id=str(event.id))
        position += 1
        previous = link_hash(key, previous, event.mac)
        links.append((event.seq, position, previous))
    return links


async def count_unchained(db: Database) -> int:
    async with db.sessions() as session:
        return await repository.count_unchained(session)


class AuditChainer:
    """Background task that chains new events every `interval` seconds."""

    def __init__(
        self, db: Database, key: bytes, checkpointer: Checkpointer, interval: float
    ) -> None:
        self._db = db
        self._key = key
        self._checkpointer = checkpointer
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    @property
    def checkpointer(self) -> Checkpointer:
        return self._checkpointer

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="audit-chainer")

    async def stop(self) -> None:
        """Stop the loop, chain what is left and anchor the newest checkpoint."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.run_once()
        await asyncio.to_thread(self._checkpointer.anchor_pending, force=True)

    async def run_once(self) -> int:
        try:
            return await chain_pending(self._db, self._key, self._checkpointer)
        except Exception:
            log.exception("audit.chain.failed")
            return 0

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self.run_once()
