"""SIGKILL the real server again and again during concurrent uploads, then restart it.

Each cycle starts a server from `kill_server` (uvicorn on a TCP port, forked
from a process that imported the app once), sends credential
submissions from several threads, and SIGKILLs the process after a random
moment, while uploads are being received, checked, stored and committed. After
the last kill the server starts once more and its launch sweep runs. Counted
and required to be zero:

- acknowledged uploads lost: a 201's reference with no committed submission;
- committed submissions without their review workflow (in DBOS), after the sweep;
- plaintext files in the upload spool, looked at after every kill; and after
  the restart nothing a dead process left is still there.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from dbos import DBOSClient
from tests.conftest import backend, create_pg_database, drop_pg_database, make_settings
from tests.factories import DEFAULT_PASSWORD
from tests.integration.credentials.kill_server import facts_path
from tests.integration.credentials.support import metadata
from tests.integration.workflows.processes import ROOT, wait_until
from tests.unit.filecheck.corpus import valid_pdf

from clinvault.config import Settings
from clinvault.storage.spool import spool_root
from clinvault.workflows import sysdb

pytestmark = pytest.mark.slow

SERVER = "tests.integration.credentials.kill_server"
KILLS = int(os.environ.get("CLINVAULT_KILL_TEST_KILLS", "20"))
SENDERS = 4
START_TIMEOUT = 60.0
SWEEP_TIMEOUT = 60.0


@pytest.fixture
async def kill_database_url() -> AsyncIterator[str]:
    if backend() != "postgresql":
        yield ""
        return
    url = await create_pg_database()
    yield url
    await drop_pg_database(url)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Uploads:
    """Sender threads: submit one PDF after another until the server goes away."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.headers = {"Authorization": f"Bearer {token}"}
        self.acknowledged: list[str] = []
        self.sent = 0
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._send, daemon=True) for _ in range(SENDERS)]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def join(self) -> None:
        for thread in self._threads:
            thread.join(30)
            assert not thread.is_alive()

    def _send(self) -> None:
        entry = json.dumps([metadata("medical_license")], default=date.isoformat)
        with httpx.Client(base_url=self.base_url, timeout=30) as client:
            while True:
                with self._lock:
                    self.sent += 1
                    marker = self.sent
                pdf = valid_pdf(pad_to=3000 + (marker % 5000))
                try:
                    response = client.post(
                        "/api/credentials/submissions",
                        headers=self.headers,
                        data={"metadata": entry},
                        files=[("files", (f"license-{marker}.pdf", pdf, "application/pdf"))],
                    )
                except httpx.HTTPError:
                    return
                assert response.status_code == 201, response.text
                with self._lock:
                    self.acknowledged.append(response.json()["reference"])


class Server:
    """Servers forked by one `kill_server` process, started and SIGKILLed one at a time."""

    def __init__(self, home: Path, database_url: str, env: dict[str, str], log: Path) -> None:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("wb") as errors:
            self.forker = subprocess.Popen(
                [sys.executable, "-m", SERVER, str(home), database_url],
                cwd=ROOT,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
                start_new_session=True,
            )
        self.pid = 0

    def start(self) -> str:
        assert self.forker.stdin is not None
        assert self.forker.stdout is not None
        port = _free_port()
        self.forker.stdin.write(f"serve {port}\n")
        self.forker.stdin.flush()
        self.pid = int(self.forker.stdout.readline())
        base_url = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            assert _alive(self.pid), "the server died while starting: see servers.log"
            try:
                return httpx.get(f"{base_url}/api/health/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(healthy, timeout=START_TIMEOUT, what="the server to answer")
        return base_url

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        wait_until(lambda: not _alive(self.pid), timeout=10, what="the killed server to end")

    def close(self) -> None:
        if _alive(self.pid):
            self.kill()
        self.forker.kill()
        self.forker.wait(10)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _sign_in(base_url: str, email: str) -> str:
    response = httpx.post(
        f"{base_url}/api/auth/login",
        json={"username": email, "password": DEFAULT_PASSWORD},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def _plaintext_files(root: Path) -> list[Path]:
    """Spool files whose bytes are not sealed, or that others than the owner may read."""
    found = []
    for path in sorted(root.rglob("*")) if root.exists() else []:
        if path.is_file():
            with path.open("rb") as handle:
                sealed = handle.read(4) == b"CVE1"
            if not sealed or path.stat().st_mode & 0o077:
                found.append(path)
    return found


def _sync_url(settings: Settings) -> str:
    return settings.database_url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg")


def _committed(settings: Settings) -> tuple[set[str], set[str]]:
    """References of committed submissions, and the review workflow ids they owe."""
    engine = sa.create_engine(_sync_url(settings))
    try:
        with engine.connect() as connection:
            references = {
                str(row[0])
                for row in connection.execute(
                    sa.text("SELECT reference FROM credential_submissions")
                )
            }
            workflow_ids = {
                str(row[0])
                for row in connection.execute(
                    sa.text("SELECT DISTINCT review_workflow_id FROM credential_documents")
                )
            }
    finally:
        engine.dispose()
    return references, workflow_ids


def _without_workflow(client: DBOSClient, workflow_ids: set[str]) -> set[str]:
    ids = sorted(workflow_ids)
    existing: set[str] = set()
    for first in range(0, len(ids), 200):
        found = client.list_workflows(workflow_ids=ids[first : first + 200], load_input=False)
        existing.update(status.workflow_id for status in found)
    return workflow_ids - existing


def test_sigkills_during_uploads_lose_nothing_and_leave_no_plaintext(
    tmp_path: Path, kill_database_url: str
) -> None:
    home = tmp_path / "home"
    settings = make_settings(home, kill_database_url)
    env = {
        **os.environ,
        "CLINVAULT_ENV": "test",
        "CLINVAULT_HOME": str(home),
        "CLINVAULT_DATABASE_URL": kill_database_url,
        "CLINVAULT_LOG_LEVEL": "WARNING",
    }
    rng = random.Random(7)
    acknowledged: list[str] = []
    plaintext_seen: list[Path] = []
    kills = 0
    began = time.monotonic()
    server = Server(home, kill_database_url, env, tmp_path / "logs" / "servers.log")
    try:
        for _ in range(KILLS):
            base_url = server.start()
            email = json.loads(facts_path(home).read_text())["practitioner"]
            uploads = Uploads(base_url, _sign_in(base_url, email))
            uploads.start()
            time.sleep(rng.uniform(0.3, 1.2))
            server.kill()
            kills += 1
            uploads.join()
            acknowledged.extend(uploads.acknowledged)
            plaintext_seen.extend(_plaintext_files(spool_root(settings)))

        server.start()
        client = DBOSClient(
            system_database_url=sysdb.system_database_url(settings),
            dbos_system_schema=sysdb.SYSTEM_SCHEMA,
        )
        references, owed = _committed(settings)
        missing: set[str] = owed
        deadline = time.monotonic() + SWEEP_TIMEOUT
        while time.monotonic() < deadline:
            missing = _without_workflow(client, owed)
            if not missing:
                break
            time.sleep(0.5)
        root = spool_root(settings)
        left_in_spool = sorted(root.iterdir()) if root.exists() else []
    finally:
        server.close()

    lost = set(acknowledged) - references
    print(
        f"\nkill test ({backend()}): {kills} SIGKILLs in {time.monotonic() - began:.0f}s, "
        f"{len(acknowledged)} acknowledged, {len(references)} committed, "
        f"{len(references) - len(set(acknowledged) & references)} committed unacknowledged, "
        f"lost {len(lost)}, without workflow {len(missing)}, "
        f"plaintext spool files {len(plaintext_seen)}, left after restart {len(left_in_spool)}"
    )
    assert kills >= 20 or KILLS < 20
    assert acknowledged, "no upload was acknowledged: the test proved nothing"
    assert lost == set()
    assert missing == set()
    assert plaintext_seen == []
    assert left_in_spool == []
