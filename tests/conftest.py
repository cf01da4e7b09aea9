"""Test-wide fixtures: one database per session (SQLite or PostgreSQL), one app.

CLINVAULT_TEST_DATABASE selects the backend (sqlite | postgresql). When a
service is missing the tests that need it skip with the reason, unless
CLINVAULT_REQUIRE_SERVICES=1, where a missing service fails the run.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete

from clinvault.bootstrap import Container, build_container
from clinvault.config import Settings
from clinvault.crypto.field_cipher import AesGcmFieldCipher
from clinvault.crypto.fields import install_field_cipher
from clinvault.main import create_app
from clinvault.migrate import upgrade_async
from clinvault.models import Base

PG_ADMIN_DSN = os.environ.get(
    "CLINVAULT_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_SERVICES = os.environ.get("CLINVAULT_REQUIRE_SERVICES") == "1"
# Scanning is on by default wherever a system clamd listens; the suite never depends on
# one (the clamd tests start their own), here or in the servers it starts.
os.environ.setdefault("CLINVAULT_VIRUS_SCAN_URL", "none")


def backend() -> str:
    return os.environ.get("CLINVAULT_TEST_DATABASE", "sqlite")


def service_missing(reason: str) -> None:
    """Skip locally; fail when the run requires every service."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service unavailable: {reason}")
    pytest.skip(reason)


async def create_pg_database() -> str:
    name = f"clinvault_test_{os.getpid()}_{secrets.token_hex(4)}"
    try:
        conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        service_missing(f"PostgreSQL not reachable at {PG_ADMIN_DSN}: {exc}")
        raise
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{name}"


async def drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def make_settings(home: Path, database_url: str = "", **overrides: object) -> Settings:
    values: dict[str, object] = {
        "env": "test",
        "home": home,
        "database_url": database_url,
        "log_json": True,
        "log_level": "WARNING",
        "audit_chain_interval_seconds": 3600.0,
        "security": {"cookie_secure": True},
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("clinvault-home")


@pytest.fixture(scope="session")
async def database_url(home: Path) -> AsyncIterator[str]:
    if backend() == "postgresql":
        url = await create_pg_database()
        yield url
        await drop_pg_database(url)
    else:
        yield f"sqlite+aiosqlite:///{home / 'data' / 'clinvault.db'}"


@pytest.fixture(scope="session")
async def settings(home: Path, database_url: str) -> Settings:
    settings = make_settings(home, database_url)
    await upgrade_async(settings)
    return settings


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="session")
def container(app: FastAPI) -> Container:
    built: Container = app.state.container
    return built


@pytest.fixture(autouse=True)
async def clean_state(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Every test that uses the app starts from empty tables, no checkpoints and the
    app's own field cipher."""
    uses_app = "app" in request.fixturenames
    built: Container | None = request.getfixturevalue("container") if uses_app else None
    if built is not None:
        # The field cipher is process-wide; an earlier test that built a container over
        # other keys must not leave this test's app encrypting under them.
        install_field_cipher(AesGcmFieldCipher(built.keys))
    yield
    if built is None:
        return
    async with built.db.unit_of_work() as session:
        for table in reversed(Base.metadata.sorted_tables):
            await session.execute(delete(table))
    checkpoint = built.settings.audit_checkpoint_path
    if checkpoint is not None and checkpoint.exists():
        checkpoint.unlink()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
def fresh_container(tmp_path: Path) -> Container:
    """A container on its own SQLite home, for tests that need isolation."""
    return build_container(make_settings(tmp_path))


__all__ = ["backend", "build_container", "make_settings", "service_missing"]
