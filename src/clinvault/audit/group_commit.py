"""Group commit for audit events that come without a write of their own.

A read, a denial or a refused request has nothing to commit but its audit
event. Written one by one, each costs a BEGIN, an INSERT and a durable COMMIT
(a WAL flush on PostgreSQL, a write lock and a WAL append on SQLite), and under
load those commits are the ceiling. Here the events of concurrent requests wait
together: one flusher writes every event queued so far in one transaction,
commits once, and only then lets each request go on. A request still goes on
only once its event is durable; what changes is that many requests share one
commit. With a single request in flight the cost is the same as before.

Writes keep their event inside their own transaction (`AuditRecorder.record`),
so that a write and its event commit or roll back together.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog

from clinvault.audit.repository import insert_events
from clinvault.db import Database

log = structlog.get_logger(__name__)

MAX_BATCH = 500

_Pending = tuple[dict[str, Any], "asyncio.Future[None]"]


class AuditGroupCommit:
    def __init__(self, db: Database, *, max_batch: int = MAX_BATCH) -> None:
        self._db = db
        self._max_batch = max_batch
        self._pending: list[_Pending] = []
        self._flusher: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def write(self, values: dict[str, Any]) -> None:
        """Return once the event is committed; raise what the commit raised."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            # A new event loop (a restarted app in the same process): nothing queued on
            # the old one can still be awaited.
            self._loop, self._pending, self._flusher = loop, [], None
        done: asyncio.Future[None] = loop.create_future()
        self._pending.append((values, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = loop.create_task(self._flush(), name="audit-group-commit")
        # Shielded: a request cancelled while it waits (its client went away) leaves its
        # event to be written all the same.
        await asyncio.shield(done)

    async def drain(self) -> None:
        """Wait until every queued event is written (at shutdown)."""
        flusher = self._flusher
        if flusher is not None and not flusher.done():
            await asyncio.wait({flusher})

    async def _flush(self) -> None:
        while self._pending:
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            if not await self._commit(batch) and len(batch) > 1:
                # One event the database refuses must not fail the others with it.
                for one in batch:
                    await self._commit([one])

    async def _commit(self, batch: list[_Pending]) -> bool:
        """Write the batch in one transaction; a lone event's failure goes to its waiter."""
        try:
            async with self._db.unit_of_work() as session:
                await insert_events(session, [values for values, _ in batch])
        except Exception as exc:
            log.error("audit.group_commit.failed", events=len(batch), error=type(exc).__name__)
            if len(batch) == 1 and not batch[0][1].done():
                batch[0][1].set_exception(exc)
            return False
        for _, done in batch:
            if not done.done():
                done.set_result(None)
        return True
