"""A pooled connection left inside a transaction SQLAlchemy no longer tracks is never reused.

A task cancelled while asyncpg sends BEGIN leaves exactly this state. Reused, each
later unit of work would run in a SAVEPOINT of the hidden transaction: its commit
would release the savepoint, report success and make nothing durable, while the
connection held its locks.
"""

from __future__ import annotations

import asyncpg
from sqlalchemy import text

from clinvault.config import Settings
from clinvault.db import Database, create_engine


def _plain_dsn(settings: Settings) -> str:
    return settings.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _count_seen_by_another_connection(settings: Settings) -> int:
    other = await asyncpg.connect(_plain_dsn(settings), timeout=5)
    try:
        return int(await other.fetchval("SELECT count(*) FROM pool_probe"))
    finally:
        await other.close()


async def _is_idle_in_transaction(settings: Settings, pid: int) -> bool:
    """Whether that backend still sits in an open transaction (other tests share the database)."""
    other = await asyncpg.connect(_plain_dsn(settings), timeout=5)
    try:
        return bool(
            await other.fetchval(
                "SELECT count(*) > 0 FROM pg_stat_activity"
                " WHERE pid = $1 AND state LIKE 'idle in transaction%'",
                pid,
            )
        )
    finally:
        await other.close()


async def _poison_the_pooled_connection(database: Database) -> int:
    """Start a transaction on the raw asyncpg connection, behind SQLAlchemy's back."""
    async with database.engine.connect() as connection:
        pid = int(await connection.scalar(text("SELECT pg_backend_pid()")) or 0)
        raw = await connection.get_raw_connection()
        await raw.driver_connection.transaction().start()
    return pid


async def test_a_commit_after_a_hidden_transaction_is_durable(settings: Settings) -> None:
    database = Database(
        create_engine(
            settings.model_copy(update={"database_pool_size": 1, "database_pool_overflow": 0})
        )
    )
    try:
        async with database.unit_of_work() as session:
            await session.execute(text("CREATE TABLE IF NOT EXISTS pool_probe (n integer)"))
            await session.execute(text("DELETE FROM pool_probe"))

        poisoned = await _poison_the_pooled_connection(database)
        assert not await _is_idle_in_transaction(settings, poisoned)

        async with database.unit_of_work() as session:
            await session.execute(text("INSERT INTO pool_probe VALUES (1)"))

        assert await _count_seen_by_another_connection(settings) == 1
    finally:
        await database.dispose()


async def test_the_checkout_guard_replaces_a_connection_poisoned_while_idle(
    settings: Settings,
) -> None:
    database = Database(
        create_engine(
            settings.model_copy(update={"database_pool_size": 1, "database_pool_overflow": 0})
        )
    )
    try:
        async with database.engine.connect() as connection:
            first_pid = await connection.scalar(text("SELECT pg_backend_pid()"))
            raw = await connection.get_raw_connection()
            driver = raw.driver_connection
        # Poisoned after checkin (what a cancelled BEGIN on a background task could leave).
        await driver.transaction().start()

        async with database.engine.connect() as connection:
            second_pid = await connection.scalar(text("SELECT pg_backend_pid()"))
        assert second_pid != first_pid
        assert not await _is_idle_in_transaction(settings, int(first_pid or 0))
    finally:
        await database.dispose()
