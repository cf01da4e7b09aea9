"""Where DBOS keeps workflow state, derived from the application database URL.

SQLite: a file of its own, `<home>/data/workflows.db`, in WAL mode so that a
`serve` and any `worker` processes on the host read while one of them writes.
A second file rather than tables in the application database keeps DBOS's
schema and its writers out of the application's single-writer file.

PostgreSQL: the application database itself, with DBOS's tables in their own
`dbos` schema. One database means one backup and one point-in-time restore for
application rows and the workflows that act on them, so a restore never brings
back workflows whose rows are gone (or the reverse); the schema keeps the two
apart, Alembic only looks at the default schema, and no CREATEDB privilege is
needed: DBOS creates its schema inside a database that already exists.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from sqlalchemy import make_url

from clinvault.config import Settings

SYSTEM_SCHEMA = "dbos"
SQLITE_FILE = "workflows.db"


def system_database_url(settings: Settings) -> str:
    if settings.is_sqlite:
        return f"sqlite:///{sqlite_system_path(settings)}"
    return libpq_url(settings.database_url)


def sqlite_system_path(settings: Settings) -> Path:
    return settings.home / "data" / SQLITE_FILE


def libpq_url(database_url: str) -> str:
    """The asyncpg URL of the application database as a libpq (psycopg) URL.

    asyncpg spells the TLS mode `ssl=`; libpq spells it `sslmode=` with the same
    values (disable ... verify-full).
    """
    url = make_url(database_url)
    query = dict(url.query)
    if "ssl" in query:
        mode = query.pop("ssl")
        query.setdefault("sslmode", mode)
    return url.set(drivername="postgresql", query=query).render_as_string(hide_password=False)


def prepare(settings: Settings) -> None:
    """Create what DBOS expects to exist before its first launch."""
    if not settings.is_sqlite:
        return
    path = sqlite_system_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path, timeout=30)) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
