"""A workflow whose process is SIGKILLed resumes where it stopped, exactly once.

Each test runs `crash_workflow` in a child process, kills it with SIGKILL at a
chosen point, then starts another process (the same runner, or `clinvault
worker`) and checks: the workflow succeeded, its first step ran once, and one
email went out. Runs on SQLite, or PostgreSQL with CLINVAULT_TEST_DATABASE.
"""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from dbos import DBOSClient
from tests.conftest import backend, create_pg_database, drop_pg_database, make_settings
from tests.integration.workflows.crash_workflows import MARKER_TABLE, gate_path
from tests.integration.workflows.processes import Child, Children, children, wait_until

from clinvault.config import Settings
from clinvault.workflows import sysdb

pytestmark = pytest.mark.slow

RUNNER = "tests.integration.workflows.crash_runner"
WORKER = "tests.integration.workflows.worker_entry"
STEP_TIMEOUT = 60.0


@dataclass
class Crash:
    settings: Settings
    procs: Children
    workflow_id: str
    client: DBOSClient | None = None

    @property
    def home(self) -> Path:
        return self.settings.home

    def runner(self, name: str, executor_id: str, mode: str, *extra: str) -> Child:
        url = "" if self.settings.is_sqlite else self.settings.database_url
        return self.procs.start(
            name, "-m", RUNNER, str(self.home), url, executor_id, self.workflow_id, mode, *extra
        )

    def worker(self, name: str, *args: str) -> Child:
        return self.procs.start(name, "-m", WORKER, "worker", *args)

    def status(self) -> str | None:
        if self.client is None:
            self.client = DBOSClient(
                system_database_url=sysdb.system_database_url(self.settings),
                dbos_system_schema=sysdb.SYSTEM_SCHEMA,
            )
        found = self.client.list_workflows(workflow_ids=[self.workflow_id], load_input=False)
        return found[0].status if found else None

    def markers(self) -> int:
        url = self.settings.database_url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg")
        engine = sa.create_engine(url)
        try:
            with engine.connect() as connection:
                count = connection.execute(
                    sa.text(f"SELECT count(*) FROM {MARKER_TABLE} WHERE workflow_id = :id"),
                    {"id": self.workflow_id},
                ).scalar_one()
        finally:
            engine.dispose()
        return int(count)

    def mails(self) -> list[Path]:
        return sorted((self.home / "mail").glob("*.eml"))

    def open_gate(self, gate: str) -> None:
        path = gate_path(self.home, gate, "open")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()

    def kill_at(self, child: Child, gate: str) -> None:
        """SIGKILL `child` once its workflow waits at `gate`."""
        waiting = gate_path(self.home, gate, "waiting")
        wait_until(waiting.exists, timeout=STEP_TIMEOUT, what=f"gate {gate}", watch=child)
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(10) == -signal.SIGKILL
        waiting.unlink()
        assert self.status() == "PENDING"

    def wait_for_success(self, watch: Child) -> None:
        wait_until(
            lambda: self.status() == "SUCCESS",
            timeout=STEP_TIMEOUT,
            what="the workflow to succeed",
            watch=watch,
        )

    def assert_done_once(self) -> None:
        assert self.status() == "SUCCESS"
        assert self.markers() == 1
        mails = self.mails()
        assert len(mails) == 1
        assert "crash-test@example.org" in mails[0].read_text()


@pytest.fixture
async def crash_database_url() -> AsyncIterator[str]:
    if backend() != "postgresql":
        yield ""
        return
    url = await create_pg_database()
    yield url
    await drop_pg_database(url)


@pytest.fixture
def crash(tmp_path: Path, crash_database_url: str) -> Iterator[Crash]:
    settings = make_settings(tmp_path / "home", crash_database_url)
    env = {
        **os.environ,
        "CLINVAULT_ENV": "test",
        "CLINVAULT_HOME": str(settings.home),
        "CLINVAULT_DATABASE_URL": crash_database_url,
        "CLINVAULT_LOG_LEVEL": "WARNING",
    }
    with children(tmp_path / "logs", env) as procs:
        state = Crash(settings, procs, f"crash-{uuid.uuid4().hex[:12]}")
        try:
            yield state
        finally:
            procs.kill_all()
            if state.client is not None:
                state.client.destroy()


def test_killed_between_steps_resumes_under_the_same_executor_id(crash: Crash) -> None:
    first = crash.runner("first", "local", "start")
    crash.kill_at(first, "before-mail")
    assert crash.markers() == 1
    assert crash.mails() == []

    again = crash.runner("again", "local", "resume")
    crash.open_gate("before-mail")
    assert again.wait(STEP_TIMEOUT) == 0, again.output()
    assert again.output().strip().endswith("done")
    crash.assert_done_once()


def test_killed_after_the_mail_went_out_sends_it_only_once(crash: Crash) -> None:
    crash.open_gate("before-mail")
    first = crash.runner("first", "local", "start", "--hold-after-sending")
    crash.kill_at(first, "after-mail")
    assert len(crash.mails()) == 1

    again = crash.runner("again", "local", "resume")
    crash.open_gate("after-mail")
    assert again.wait(STEP_TIMEOUT) == 0, again.output()
    crash.assert_done_once()


def test_worker_started_with_the_dead_executor_id_recovers_its_workflow(crash: Crash) -> None:
    first = crash.runner("first", "node-7", "start")
    crash.kill_at(first, "before-mail")

    worker = crash.worker("worker", "--executor-id", "node-7")
    crash.open_gate("before-mail")
    crash.wait_for_success(worker)
    crash.assert_done_once()

    worker.process.send_signal(signal.SIGTERM)
    assert worker.wait(STEP_TIMEOUT) == 0, worker.output()


def test_worker_adopts_the_workflows_of_an_executor_that_never_returns(crash: Crash) -> None:
    first = crash.runner("first", "node-9", "start")
    crash.kill_at(first, "before-mail")

    worker = crash.worker("worker")
    crash.open_gate("before-mail")
    crash.wait_for_success(worker)
    crash.assert_done_once()

    worker.process.send_signal(signal.SIGTERM)
    assert worker.wait(STEP_TIMEOUT) == 0, worker.output()
