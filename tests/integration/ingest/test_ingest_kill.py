"""An import job SIGKILLed inside a batch resumes in a new process from its last checkpoint:
every row written once, the counters exact, no rejected row reported twice."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from tests.conftest import backend, create_pg_database, drop_pg_database, make_settings
from tests.integration.ingest.kill_runner import (
    BATCH_ROWS,
    HELD_BATCH,
    expected,
    facts_path,
    gate_path,
)
from tests.integration.workflows.processes import children, wait_until

pytestmark = pytest.mark.slow

RUNNER = "tests.integration.ingest.kill_runner"
TIMEOUT = 60.0
COUNTERS = ("rows_read", "rows_inserted", "rows_present", "rows_rejected")


@pytest.fixture
async def kill_database_url() -> AsyncIterator[str]:
    if backend() != "postgresql":
        yield ""
        return
    url = await create_pg_database()
    yield url
    await drop_pg_database(url)


def query(url: str, statement: str, **params: Any) -> list[sa.Row[Any]]:
    engine = sa.create_engine(url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg"))
    try:
        with engine.begin() as connection:
            return list(connection.execute(sa.text(statement), params))
    finally:
        engine.dispose()


def job_row(url: str, job_id: str) -> dict[str, Any]:
    columns = ", ".join(("state", "checkpoint_row", *COUNTERS))
    rows = query(url, f"SELECT {columns} FROM ingest_jobs")
    assert len(rows) == 1, rows
    return dict(rows[0]._mapping)


def test_killed_import_resumes_from_its_checkpoint_without_duplicates(
    tmp_path: Path, kill_database_url: str
) -> None:
    home = tmp_path / "home"
    url = make_settings(home, kill_database_url).database_url
    env = {
        **os.environ,
        "CLINVAULT_ENV": "test",
        "CLINVAULT_HOME": str(home),
        "CLINVAULT_DATABASE_URL": kill_database_url,
        "CLINVAULT_LOG_LEVEL": "WARNING",
    }
    with children(tmp_path / "logs", env) as procs:
        first = procs.start("first", "-m", RUNNER, str(home), kill_database_url, "start")
        wait_until(
            lambda: gate_path(home).exists() and facts_path(home).exists(),
            timeout=TIMEOUT,
            what="the job to be held inside a batch",
            watch=first,
        )
        os.kill(first.pid, signal.SIGKILL)
        assert first.wait(10) == -signal.SIGKILL

        job_id = json.loads(facts_path(home).read_text())["job_id"]
        # What survived the kill: the committed batches exactly, not the one in flight.
        killed = job_row(url, job_id)
        committed = (HELD_BATCH - 1) * BATCH_ROWS
        assert killed["state"] == "processing"
        assert killed["checkpoint_row"] == committed + 1  # the header is line 1
        assert killed["rows_read"] == committed
        written = query(url, "SELECT count(*) FROM medical_records")[0][0]
        assert written == killed["rows_inserted"] > 0

        again = procs.start("again", "-m", RUNNER, str(home), kill_database_url, "resume")
        assert again.wait(TIMEOUT) == 0, again.output()
        assert again.output().strip().endswith("completed_with_errors"), again.output()

    finished = job_row(url, job_id)
    want = expected()
    assert {name: finished[name] for name in COUNTERS} == want
    assert finished["state"] == "completed_with_errors"
    # Every row once: as many records as inserted rows, each file line at most once.
    records = query(url, "SELECT import_row, import_key FROM medical_records")
    assert len(records) == want["rows_inserted"]
    assert len({row[0] for row in records}) == len(records)
    assert len({row[1] for row in records}) == len(records)
    errors = query(url, "SELECT line FROM ingest_row_errors")
    assert len(errors) == want["rows_rejected"]
    assert len({row[0] for row in errors}) == len(errors)
    # Patients too: one per MRN, however many batches and runs saw it.
    patients = query(url, "SELECT count(*), count(DISTINCT mrn_index) FROM patients")[0]
    assert patients[0] == patients[1] == 40
