"""The scale-out suite exists only on PostgreSQL, and says so instead of skipping.

Replicas are separate processes that must share one database: SQLite is one file
on one host, written by one process at a time, and is not a deployment that runs
replicas at all. So on SQLite these modules are not collected (`collect_ignore_glob`)
rather than collected and skipped: a skip would read as "could not run here", while
the truth is "does not apply to this backend". `make test` runs the suite a second
time with CLINVAULT_TEST_DATABASE=postgresql, and there it is collected and required.
"""

from __future__ import annotations

from tests.conftest import backend

collect_ignore_glob = [] if backend() == "postgresql" else ["test_*.py"]
