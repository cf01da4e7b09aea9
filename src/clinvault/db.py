"""Engine, sessions and the unit of work: the only module that commits."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from clinvault.config import Settings

BeforeCommit = Callable[[AsyncSession], Awaitable[None]]
AfterCommit = Callable[[], Awaitable[None]]

_AFTER_COMMIT = "clinvault.after_commit"
_WROTE = "clinvault.wrote"
# Connections older than this are replaced at checkout, before any idle timeout of a
# proxy or firewall between the service and PostgreSQL can cut them.
POOL_RECYCLE_SECONDS = 1800


def after_commit(session: AsyncSession, callback: AfterCommit) -> None:
    """Run callback once the session's transaction has committed (side effects)."""
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state: ORMExecuteState) -> None:
    if not state.is_select:
        state.session.info[_WROTE] = True


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, _flush: UOWTransaction) -> None:
    session.info[_WROTE] = True


def has_written(session: AsyncSession) -> bool:
    """Whether the session's transaction holds (or will hold) a write of its own."""
    return bool(session.info.get(_WROTE) or session.new or session.dirty or session.deleted)


async def release_connection(session: AsyncSession) -> None:
    """Before slow CPU work (a password hash): when the session has only read so far, end
    its transaction so that its connection goes back to the pool; the next statement takes
    one again. A session that has written keeps its transaction, so the writes stay one unit.
    """
    if has_written(session):
        return
    if session.in_transaction():
        await session.commit()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


def _replace_closed_connection(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Hand out a new connection instead of one the server has already closed.

    asyncpg notices a closed socket (server restart, terminated backend) as soon as
    the event loop reads it, so this check costs no round trip, unlike a pre-ping
    (BEGIN, a statement and ROLLBACK on every checkout). A connection that dies
    during a request surfaces as a 503 (see problems.py).
    """
    driver = record.driver_connection
    if driver is None or driver.is_closed():
        raise DisconnectionError("the pooled connection was closed by the server")
    if _holds_hidden_transaction(driver):
        raise DisconnectionError("the pooled connection was left inside a transaction")


def _holds_hidden_transaction(driver: Any) -> bool:
    """Whether asyncpg is inside a transaction that SQLAlchemy no longer tracks.

    A task cancelled while asyncpg sends BEGIN leaves the connection marked as in a
    transaction on asyncpg's side only. Reused, every later BEGIN would become a
    SAVEPOINT inside it: commits would release savepoints, never commit, and the
    connection would hold its locks for as long as it lives.
    """
    return bool(driver.is_in_transaction() or getattr(driver, "_top_xact", None) is not None)


def _discard_if_poisoned(_dbapi_connection: Any, record: Any) -> None:
    """At checkin, after the pool's own rollback: close a connection left in a transaction."""
    driver = record.driver_connection
    if driver is not None and not driver.is_closed() and _holds_hidden_transaction(driver):
        record.invalidate()


def create_engine(settings: Settings) -> AsyncEngine:
    if settings.is_sqlite:
        path = settings.sqlite_path
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            settings.database_url,
            connect_args={"timeout": 15},
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_pool_overflow,
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_async_engine(
        settings.database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_pool_overflow,
        pool_recycle=POOL_RECYCLE_SECONDS,
    )
    event.listen(engine.sync_engine.pool, "checkout", _replace_closed_connection)
    event.listen(engine.sync_engine.pool, "checkin", _discard_if_poisoned)
    return engine


def _session_maker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)


class Database:
    """Owns the engines and hands out sessions; commits only through unit_of_work.

    asyncpg connections belong to the event loop that opened them. The process serves
    on one loop (the first to ask for a session); DBOS runs queued and scheduled
    workflows on a background loop of its own whenever that loop is not running (a
    process between two `asyncio.run` calls, a test suite between async tests). A
    session asked for on another loop comes from an engine of that loop, built from the
    same settings, never from the main loop's connections.
    """

    def __init__(self, engine: AsyncEngine, settings: Settings | None = None) -> None:
        self.engine = engine
        self._settings = settings
        self._home: asyncio.AbstractEventLoop | None = None
        self._home_sessions = _session_maker(engine)
        self._elsewhere: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, async_sessionmaker[AsyncSession]
        ] = weakref.WeakKeyDictionary()
        self._other_engines: list[AsyncEngine] = []

    def sessions(self) -> AsyncSession:
        """A new session, on an engine of the running event loop."""
        loop = asyncio.get_running_loop()
        if self._home is None:
            self._home = loop
        if loop is self._home:
            return self._home_sessions()
        maker = self._elsewhere.get(loop)
        if maker is None:
            if self._settings is None:
                raise RuntimeError("this Database serves one event loop: build it with settings")
            engine = create_engine(self._settings)
            self._other_engines.append(engine)
            maker = self._elsewhere[loop] = _session_maker(engine)
        return maker()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def unit_of_work(
        self, before_commit: BeforeCommit | None = None
    ) -> AsyncIterator[AsyncSession]:
        """One transaction: commit on success, roll back on any exception."""
        async with self.sessions() as session:
            try:
                yield session
                if before_commit is not None:
                    await before_commit(session)
                await session.commit()
            except BaseException:
                session.info.pop(_AFTER_COMMIT, None)
                await session.rollback()
                raise
            callbacks: list[AfterCommit] = session.info.pop(_AFTER_COMMIT, [])
            for callback in callbacks:
                await callback()

    async def dispose(self) -> None:
        await self.engine.dispose()
        for engine in self._other_engines:
            # Their connections belong to other loops: let them go without closing here.
            await engine.dispose(close=False)
        self._other_engines.clear()
