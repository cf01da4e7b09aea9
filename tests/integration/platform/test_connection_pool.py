"""The pool keeps as many connections as a process serves at once, so bursts open none."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event, text

from clinvault.config import Settings
from clinvault.db import Database, create_engine


async def _connections_opened_by_bursts(settings: Settings, burst: int) -> list[int]:
    database = Database(create_engine(settings))
    opened = 0

    def count(_dbapi_connection: Any, _record: Any) -> None:
        nonlocal opened
        opened += 1

    event.listen(database.engine.sync_engine, "connect", count)
    both_in: asyncio.Barrier = asyncio.Barrier(burst)

    async def one_request() -> None:
        async with database.unit_of_work() as session:
            await session.execute(text("SELECT 1"))
            await both_in.wait()

    try:
        after: list[int] = []
        for _ in range(2):
            await asyncio.gather(*(one_request() for _ in range(burst)))
            after.append(opened)
        return after
    finally:
        await database.dispose()


async def test_a_pool_as_large_as_the_burst_opens_no_connection_for_the_second(
    settings: Settings,
) -> None:
    sized = settings.model_copy(update={"database_pool_size": 8, "database_pool_overflow": 4})
    first, second = await _connections_opened_by_bursts(sized, 8)
    assert first == 8
    assert second == first


async def test_a_pool_smaller_than_the_burst_reopens_its_overflow_every_time(
    settings: Settings,
) -> None:
    small = settings.model_copy(update={"database_pool_size": 2, "database_pool_overflow": 6})
    first, second = await _connections_opened_by_bursts(small, 8)
    assert first == 8
    assert second == first + 6


async def test_a_session_on_another_event_loop_never_gets_this_loops_connections(
    settings: Settings,
) -> None:
    """DBOS runs queued workflows on its own loop when the main one is not running."""
    one = settings.model_copy(update={"database_pool_size": 1, "database_pool_overflow": 0})
    database = Database(create_engine(one), one)

    async def read_one() -> int:
        async with database.unit_of_work() as session:
            return int(await session.scalar(text("SELECT 1")) or 0)

    try:
        assert await read_one() == 1  # this loop's pool now holds an open connection
        for _ in range(2):
            assert await asyncio.to_thread(asyncio.run, read_one()) == 1
            assert await read_one() == 1
    finally:
        await database.dispose()
