"""The review workflow, SIGKILLed between the confirmation and the reviewer notice,
resumes in a new process and completes; the confirmation email exists exactly once."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import AsyncIterator
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from tests.conftest import backend, create_pg_database, drop_pg_database
from tests.integration.credentials.review_crash_runner import facts_path, gate_path
from tests.integration.workflows.processes import children, wait_until

pytestmark = pytest.mark.slow

RUNNER = "tests.integration.credentials.review_crash_runner"
TIMEOUT = 90.0


@pytest.fixture
async def crash_database_url() -> AsyncIterator[str]:
    if backend() != "postgresql":
        yield ""
        return
    url = await create_pg_database()
    yield url
    await drop_pg_database(url)


def _subjects(home: Path, address: str) -> list[str]:
    found = []
    for path in sorted((home / "mail").glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if address in str(message["To"]):
            found.append(str(message["Subject"]))
    return found


def test_killed_review_workflow_resumes_and_confirms_once(
    tmp_path: Path, crash_database_url: str
) -> None:
    home = tmp_path / "home"
    env = {
        **os.environ,
        "CLINVAULT_ENV": "test",
        "CLINVAULT_HOME": str(home),
        "CLINVAULT_DATABASE_URL": crash_database_url,
        "CLINVAULT_LOG_LEVEL": "WARNING",
    }
    with children(tmp_path / "logs", env) as procs:
        first = procs.start("first", "-m", RUNNER, str(home), crash_database_url, "start")
        wait_until(
            lambda: gate_path(home, "waiting").exists() and facts_path(home).exists(),
            timeout=TIMEOUT,
            what="the reviewer notice gate",
            watch=first,
        )
        facts = json.loads(facts_path(home).read_text())
        confirmations = [s for s in _subjects(home, facts["practitioner"]) if "received" in s]
        assert confirmations == [f"Credential submission {facts['reference']} received"]
        assert _subjects(home, facts["reviewer"]) == []
        os.kill(first.pid, signal.SIGKILL)
        assert first.wait(10) == -signal.SIGKILL

        again = procs.start("again", "-m", RUNNER, str(home), crash_database_url, "resume")
        assert again.wait(TIMEOUT) == 0, again.output()
        assert again.output().strip().endswith("done")

    to_practitioner = _subjects(home, facts["practitioner"])
    assert [s for s in to_practitioner if "received" in s] == confirmations
    decisions = [f"Decisions on your submission {facts['reference']}: 2 verified"]
    assert [s for s in to_practitioner if "verified" in s] == decisions
    reviewer_mail = _subjects(home, facts["reviewer"])
    assert len(reviewer_mail) == 1
    assert facts["reference"] in reviewer_mail[0]
