"""`clinvault ingest` runs the import as a durable workflow: SIGKILLed inside a batch,
the job is adopted and finished by `clinvault worker`, every row written once."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from tests.integration.cli.conftest import Cli
from tests.integration.cli.test_cli_ingest import HEADER, provider
from tests.integration.ingest.kill_runner import (
    BATCH_ROWS,
    HELD_BATCH,
    expected,
    gate_path,
    visit_rows,
)
from tests.integration.workflows.processes import children, wait_until

pytestmark = pytest.mark.slow

TIMEOUT = 120.0
COUNTERS = ("rows_read", "rows_inserted", "rows_present", "rows_rejected")
FINISHED = ("completed", "completed_with_errors", "failed", "cancelled")


def job(cli: Cli) -> dict[str, object]:
    rows = cli.sql(f"SELECT state, {', '.join(COUNTERS)} FROM ingest_jobs")
    assert len(rows) <= 1, rows
    return dict(rows[0]._mapping) if rows else {}


def test_a_killed_ingest_command_is_finished_by_a_worker_without_duplicates(
    cli: Cli, tmp_path: Path
) -> None:
    provider(cli)
    path = tmp_path / "kill.csv"
    path.write_text(HEADER + "".join(visit_rows()))
    env = {
        **cli.env,
        "CLINVAULT_INGEST__BATCH_ROWS": str(BATCH_ROWS),
        "CLINVAULT_WORKFLOW_RECOVERY_SWEEP_SECONDS": "1",
    }
    module = "tests.integration.cli.ingest_kill_cli"
    with children(tmp_path / "logs", env) as procs:
        command = procs.start("ingest", "-m", module, str(cli.home), str(path), "northside")
        wait_until(
            lambda: gate_path(cli.home).exists(),
            timeout=TIMEOUT,
            what="the command's job to be held inside a batch",
            watch=command,
        )
        os.kill(command.pid, signal.SIGKILL)
        assert command.wait(10) == -signal.SIGKILL
        killed = job(cli)
        assert killed["state"] == "processing"
        assert killed["rows_read"] == (HELD_BATCH - 1) * BATCH_ROWS

        worker = procs.start("worker", "-m", "clinvault.cli", "worker")
        wait_until(
            lambda: job(cli)["state"] in FINISHED,
            timeout=TIMEOUT,
            what="a worker to adopt and finish the job",
            watch=worker,
        )
        os.kill(worker.pid, signal.SIGTERM)
        assert worker.wait(TIMEOUT) == 0, worker.output()

    finished = job(cli)
    assert finished["state"] == "completed_with_errors"
    assert {name: finished[name] for name in COUNTERS} == expected()
    records = cli.sql("SELECT import_row, import_key FROM medical_records")
    assert len(records) == expected()["rows_inserted"]
    assert len({row[0] for row in records}) == len(records)
    stored = cli.sql(
        "SELECT o.storage_key FROM ingest_jobs j JOIN encrypted_objects o ON o.id = j.object_id"
    )
    assert "/ingest/completed/" in str(stored[0][0])
