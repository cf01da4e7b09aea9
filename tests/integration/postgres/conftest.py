"""Behaviour of the PostgreSQL driver path: collected only when the suite runs on PostgreSQL.

These modules exercise asyncpg itself (its transaction bookkeeping), which SQLite
does not have; on SQLite they do not apply, so they are not collected rather than
collected and skipped.
"""

from __future__ import annotations

from tests.conftest import backend

collect_ignore_glob = [] if backend() == "postgresql" else ["test_*.py"]
