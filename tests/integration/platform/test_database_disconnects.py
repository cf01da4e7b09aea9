"""Database connections lost under the service: replaced when idle, a 503 mid-request."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from tests.conftest import backend

from clinvault.config import Settings
from clinvault.db import Database, create_engine
from clinvault.problems import install_problem_handlers

PROBLEM = "application/problem+json"


async def _server_pid(connection: AsyncConnection | AsyncSession) -> int | None:
    if backend() != "postgresql":
        return None
    return int(await connection.scalar(text("SELECT pg_backend_pid()")) or 0)


async def _terminate(settings: Settings, pid: int) -> None:
    """What a PostgreSQL restart or an administrator does to a connection."""
    admin = await asyncpg.connect(settings.workflow_database_url, timeout=5)
    try:
        await admin.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()
    await asyncio.sleep(0.3)  # the event loop reads the closed socket


async def _lose_connection(settings: Settings, session: AsyncSession) -> None:
    pid = await _server_pid(session)
    if pid is not None:
        await _terminate(settings, pid)
        return
    raw = await (await session.connection()).get_raw_connection()
    await raw.driver_connection.close()  # type: ignore[union-attr]


async def test_an_idle_connection_closed_by_the_server_is_replaced(settings: Settings) -> None:
    database = Database(create_engine(settings))
    try:
        async with database.engine.connect() as connection:
            first = await _server_pid(connection)
        if first is not None:
            await _terminate(settings, first)
        async with database.unit_of_work() as session:
            assert await session.scalar(text("SELECT 1")) == 1
            second = await _server_pid(session)
        assert second is None or second != first
    finally:
        await database.dispose()


async def test_a_connection_lost_during_a_request_is_a_503_problem(settings: Settings) -> None:
    database = Database(create_engine(settings))
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/lost")
    async def lost() -> dict[str, str]:
        async with database.unit_of_work() as session:
            await session.execute(text("SELECT 1"))
            await _lose_connection(settings, session)
            await session.execute(text("SELECT 1"))
        return {}

    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.get("/lost")
        assert response.status_code == 503
        assert response.headers["content-type"] == PROBLEM
        assert response.headers["retry-after"] == "1"
        body = response.json()
        assert body["code"] == "database_unavailable"
        assert "send it again" in body["detail"]
        async with database.unit_of_work() as session:
            assert await session.scalar(text("SELECT 1")) == 1
    finally:
        await database.dispose()
