"""Run `clinvault` as a separate process against a home of its own.

Each command runs in a child process, as an operator would run it: the
container it builds (keyring, field cipher) never touches this test process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from tests.conftest import backend, create_pg_database, drop_pg_database, make_settings

from clinvault.config import Settings
from clinvault.migrate import upgrade_async

ROOT = Path(__file__).resolve().parents[3]
COMMAND_TIMEOUT = 120


@dataclass
class Cli:
    settings: Settings
    env: dict[str, str]

    @property
    def home(self) -> Path:
        return self.settings.home

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "clinvault.cli", *args]

    def run(
        self, *args: str, env: dict[str, str] | None = None, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args),
            cwd=ROOT,
            env={**self.env, **(env or {})},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )

    def ok(self, *args: str) -> str:
        result = self.run(*args)
        assert result.returncode == 0, f"{args}: {result.returncode}\n{result.stderr}"
        return result.stdout

    def python(self, module: str, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", module, *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
        assert result.returncode == 0, f"{module}: {result.returncode}\n{result.stderr}"
        return result.stdout

    def sql(self, statement: str, **params: Any) -> list[sa.Row[Any]]:
        url = self.settings.database_url
        engine = sa.create_engine(url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg"))
        try:
            with engine.begin() as connection:
                result = connection.execute(sa.text(statement), params)
                return list(result) if result.returns_rows else []
        finally:
            engine.dispose()


@pytest.fixture
async def cli_database_url() -> AsyncIterator[str]:
    if backend() != "postgresql":
        yield ""
        return
    url = await create_pg_database()
    yield url
    await drop_pg_database(url)


@pytest.fixture
def fresh_cli(tmp_path: Path, cli_database_url: str) -> Cli:
    """A home whose database has no schema yet."""
    settings = make_settings(tmp_path / "home", cli_database_url)
    env = {
        **os.environ,
        "CLINVAULT_ENV": "test",
        "CLINVAULT_HOME": str(settings.home),
        "CLINVAULT_DATABASE_URL": cli_database_url,
        "CLINVAULT_LOG_LEVEL": "WARNING",
        "CLINVAULT_PUBLIC_URL": "http://127.0.0.1:8000",
    }
    return Cli(settings, env)


@pytest.fixture
async def cli(fresh_cli: Cli) -> Cli:
    """A home with the schema in place."""
    await upgrade_async(fresh_cli.settings)
    return fresh_cli
