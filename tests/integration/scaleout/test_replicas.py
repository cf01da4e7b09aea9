"""Two `clinvault serve` replicas and one `clinvault worker` share everything they need.

One PostgreSQL database, one S3 bucket and one KMS key (moto's server speaks both APIs
on 127.0.0.1); each process has a home directory of its own that nothing else reads.
Requests go alternately to both replicas, and the test shows:

- an upload through one replica downloads, byte for byte, through the other;
- a sign-in on one refreshes on the other, and the rotated-out token is refused on the
  first (one refresh-token family, in the database);
- a lockout reached by failures spread over both replicas holds on both;
- the daily expiry schedule, due once while all three processes run, runs once;
- a replica SIGKILLed right after accepting several submissions has their review
  workflows finished by the survivors, with exactly one email of each kind each;
- a replica sent SIGTERM in the middle of receiving an upload finishes that request,
  exits cleanly, and the review workflow it had started is taken over by the worker.

Mail goes to one folder that all processes write (a stand-in for one SMTP relay).
The KMS-wrapped keyring file is the one thing read from a shared path: it holds only
ciphertext that KMS must unwrap, and a deployment ships it beside the configuration.
"""

from __future__ import annotations

import asyncio
import email
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from tests.conftest import create_pg_database, drop_pg_database, service_missing
from tests.contracts.conftest import REGION, MotoServer, free_port
from tests.factories import DEFAULT_PASSWORD, unique_npi
from tests.integration.workflows.processes import ROOT, Child, wait_until
from tests.unit.filecheck.corpus import valid_pdf

pytestmark = pytest.mark.slow

CLI = ("-m", "clinvault.cli")
ORG = "scale-clinic"
REVIEWER = "reviewer@scale.example.org"
VICTIM = "victim@scale.example.org"
UPLOADER = "uploader@scale.example.org"
KILLED_SUBMITTERS = tuple(f"doctor{i}@scale.example.org" for i in range(3))
DRAINED = "drained@scale.example.org"
SCHEDULE_LEAD_SECONDS = 60
TIMEOUT = 60.0


@dataclass
class Cluster:
    tmp: Path
    env: dict[str, str]
    database_url: str
    schedule_at: datetime
    replicas: dict[str, str] = field(default_factory=dict)
    decisions_owed: list[str] = field(default_factory=list)
    processes: dict[str, Child] = field(default_factory=dict)

    @property
    def mail(self) -> Path:
        return self.tmp / "mail"

    def child_env(self, name: str) -> dict[str, str]:
        return {**self.env, "CLINVAULT_HOME": str(self.tmp / "homes" / name)}

    def cli(self, *commands: list[str]) -> str:
        """Run CLI commands one after the other in one process (one import, not one each)."""
        script = (
            "import json, sys\n"
            "from clinvault.cli.app import app\n"
            "for args in json.loads(sys.argv[1]):\n"
            "    app(args, standalone_mode=False)\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", script, json.dumps(commands)],
            cwd=ROOT,
            env=self.child_env("cli"),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, f"clinvault {commands}:\n{result.stderr[-3000:]}"
        return result.stdout

    def start(self, name: str, *args: str) -> Child:
        (self.tmp / "logs").mkdir(exist_ok=True)
        child = Child(name, [*CLI, *args], self.tmp / "logs", self.child_env(name))
        self.processes[name] = child
        return child

    def serve(self, name: str) -> None:
        port = free_port()
        child = self.start(name, "serve", "--port", str(port), "--no-migrate")
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: _ready(url), timeout=TIMEOUT, what=f"{name} ready", watch=child)
        self.replicas[name] = url

    def client(self, name: str) -> httpx.Client:
        return httpx.Client(base_url=self.replicas[name], timeout=30)

    def sql(self, query: str, **params: Any) -> list[sa.Row[Any]]:
        engine = sa.create_engine(self.database_url.replace("+asyncpg", "+psycopg"))
        try:
            with engine.connect() as connection:
                return list(connection.execute(sa.text(query), params))
        finally:
            engine.dispose()

    def mails_to(self, address: str) -> Counter[str]:
        """Subjects of the messages addressed to `address`, counted."""
        subjects: Counter[str] = Counter()
        for path in self.mail.glob("*.eml"):
            message = email.message_from_bytes(path.read_bytes())
            if address in str(message["To"]):
                subjects[str(message["Subject"])] += 1
        return subjects

    def log_lines(self, event: str) -> int:
        total = 0
        for child in self.processes.values():
            total += sum(
                1 for line in child.log.read_text(errors="replace").splitlines() if event in line
            )
        return total


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as exc:
        service_missing(f"moto[server] is not installed: {exc}")
        raise
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield MotoServer(f"http://127.0.0.1:{port}", server)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, moto: MotoServer) -> Iterator[Cluster]:
    tmp = tmp_path_factory.mktemp("scaleout")
    database_url = asyncio.run(create_pg_database())
    bucket = moto.new_bucket()
    key_arn = moto.client("kms").create_key()["KeyMetadata"]["Arn"]
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("CLINVAULT_", "AWS_"))
    }
    env = {
        **inherited,
        "AWS_ACCESS_KEY_ID": "clinvault-test",
        "AWS_SECRET_ACCESS_KEY": "clinvault-test-secret",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ENDPOINT_URL_KMS": moto.endpoint,
        "CLINVAULT_ENV": "test",
        "CLINVAULT_LOG_LEVEL": "INFO",
        "CLINVAULT_LOG_JSON": "true",
        "CLINVAULT_DATABASE_URL": database_url,
        "CLINVAULT_STORAGE_URL": f"s3://{bucket}/clinvault",
        "CLINVAULT_S3_ENDPOINT_URL": moto.endpoint,
        "CLINVAULT_KEYS_URL": key_arn,
        "CLINVAULT_KMS_WRAPPED_KEYRING_PATH": str(tmp / "shared" / "kms-keyring.json"),
        "CLINVAULT_MAIL_URL": f"file://{tmp / 'mail'}",
        "CLINVAULT_WORKFLOW_RECOVERY_SWEEP_SECONDS": "2",
        "CLINVAULT_AUDIT_CHAIN_INTERVAL_SECONDS": "3600",
    }
    state = Cluster(tmp, env, database_url, datetime.now(UTC))
    try:
        accounts = [(REVIEWER, "credentialing_reviewer"), (VICTIM, "nurse")] + [
            (address, "doctor") for address in (UPLOADER, DRAINED, *KILLED_SUBMITTERS)
        ]
        state.cli(
            ["migrate"],
            ["orgs", "create", "--name", "Scale Clinic", "--slug", ORG, "--kind", "provider"],
            *(
                [
                    *("users", "create", "--email", address, "--org", ORG, "--role", role),
                    *("--password", DEFAULT_PASSWORD),
                ]
                for address, role in accounts
            ),
        )
        # The daily schedule, set to a time of day due shortly after all processes run.
        state.schedule_at = (datetime.now(UTC) + timedelta(seconds=SCHEDULE_LEAD_SECONDS)).replace(
            microsecond=0
        )
        at = state.schedule_at
        env["CLINVAULT_CREDENTIALS__EXPIRY_SCHEDULE_CRON"] = (
            f"{at.second} {at.minute} {at.hour} * * *"
        )
        # Started one after the other, they hold executor ids local, local-2, local-3.
        state.serve("a")
        state.serve("b")
        worker = state.start("worker", "worker")
        wait_until(
            lambda: "workflows.runtime.started" in worker.log.read_text(errors="replace"),
            timeout=TIMEOUT,
            what="the worker's runtime",
            watch=worker,
        )
        yield state
    finally:
        for child in state.processes.values():
            child.kill()
        asyncio.run(drop_pg_database(database_url))


def sign_in(client: httpx.Client, address: str) -> dict[str, Any]:
    response = client.post(
        "/api/auth/login", json={"username": address, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def submit_one(client: httpx.Client, headers: dict[str, str], content: bytes) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    entry = {
        "category": "medical_license",
        "issuing_authority": "State Medical Board",
        "issued_on": (today - timedelta(days=400)).isoformat(),
        "expires_on": (today + timedelta(days=700)).isoformat(),
        "document_number": "MD-448812",
    }
    response = client.post(
        "/api/credentials/submissions",
        headers=headers,
        data={"metadata": json.dumps([entry])},
        files=[("files", ("licence.pdf", content, "application/pdf"))],
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def practitioner(client: httpx.Client, address: str) -> dict[str, str]:
    headers = bearer(sign_in(client, address))
    response = client.put(
        "/api/credentials/profile",
        json={"npi": unique_npi(), "specialty": "orthopedics"},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    return headers


def check_upload_downloads_through_the_other(cluster: Cluster) -> None:
    content = valid_pdf(pad_to=4000)
    with cluster.client("a") as a, cluster.client("b") as b:
        headers = practitioner(a, UPLOADER)
        submission = submit_one(a, headers, content)
        document_id = submission["documents"][0]["id"]
        cluster.decisions_owed.append(document_id)
        downloaded = b.get(f"/api/credentials/documents/{document_id}/content", headers=headers)
        assert downloaded.status_code == 200, downloaded.text
        assert downloaded.content == content


def check_sign_in_refreshes_on_the_other(cluster: Cluster) -> None:
    with cluster.client("a") as a, cluster.client("b") as b:
        first = sign_in(a, REVIEWER)
        refreshed = b.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert refreshed.status_code == 200, refreshed.text
        queue = a.get("/api/credentials/review-queue", headers=bearer(refreshed.json()))
        assert queue.status_code == 200, queue.text
        replayed = a.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert replayed.status_code == 401, replayed.text


def check_lockout_holds_on_both(cluster: Cluster) -> None:
    with cluster.client("a") as a, cluster.client("b") as b:
        clients = (a, b)
        for attempt in range(5):
            response = clients[attempt % 2].post(
                "/api/auth/login", json={"username": VICTIM, "password": "not the password at all"}
            )
            assert response.status_code == 401, response.text
        for client in clients:
            locked = client.post(
                "/api/auth/login", json={"username": VICTIM, "password": DEFAULT_PASSWORD}
            )
            assert locked.status_code == 429, locked.text
            assert locked.json()["code"] == "account_locked"
            assert int(locked.headers["Retry-After"]) > 0


def expiry_runs() -> str:
    return (
        "SELECT workflow_uuid, status, executor_id FROM dbos.workflow_status "
        "WHERE workflow_uuid LIKE 'sched-credential-expiry-daily-%'"
    )


def check_daily_schedule_runs_once(cluster: Cluster) -> None:
    remaining = (cluster.schedule_at - datetime.now(UTC)).total_seconds()
    assert remaining > 0, "the set-up took longer than the schedule's lead; raise the lead"
    wait_until(
        lambda: any(row.status == "SUCCESS" for row in cluster.sql(expiry_runs())),
        timeout=remaining + 30,
        what="the expiry schedule's run",
    )
    time.sleep(3)  # a second run, if any process started one, would be under way by now
    runs = cluster.sql(expiry_runs())
    assert [row.workflow_uuid for row in runs] == [
        f"sched-credential-expiry-daily-{cluster.schedule_at.isoformat()}"
    ]
    assert cluster.log_lines('"credential.expiry.swept"') == 1


def check_killed_replica_reviews_finish_once(cluster: Cluster) -> None:
    with cluster.client("a") as a:
        headers = {address: practitioner(a, address) for address in KILLED_SUBMITTERS}
        with ThreadPoolExecutor(max_workers=len(KILLED_SUBMITTERS)) as pool:
            submissions = list(
                pool.map(
                    lambda address: submit_one(
                        a, headers[address], valid_pdf(pad_to=3000 + len(address))
                    ),
                    KILLED_SUBMITTERS,
                )
            )
    victim = cluster.processes["a"]
    os.kill(victim.pid, signal.SIGKILL)
    assert victim.wait(10) == -signal.SIGKILL
    del cluster.replicas["a"]

    wait_until(
        lambda: all(sum(cluster.mails_to(address).values()) >= 1 for address in KILLED_SUBMITTERS),
        timeout=TIMEOUT,
        what="the confirmations of the killed replica's submissions",
    )
    with cluster.client("b") as b:
        reviewer = bearer(sign_in(b, REVIEWER))
        owed = [*cluster.decisions_owed, *(s["documents"][0]["id"] for s in submissions)]
        for document_id in owed:
            decided = b.post(
                f"/api/credentials/documents/{document_id}/decision",
                json={"decision": "verified"},
                headers=reviewer,
            )
            assert decided.status_code == 200, decided.text

    def finished() -> bool:
        rows = cluster.sql(
            "SELECT workflow_uuid, status FROM dbos.workflow_status "
            "WHERE workflow_uuid LIKE 'credential-review-%'"
        )
        return len(rows) == len(owed) and all(row.status == "SUCCESS" for row in rows)

    wait_until(finished, timeout=TIMEOUT, what="the reviews to finish")
    # Each submitter: the confirmation and the decision, once each.
    for address in KILLED_SUBMITTERS:
        counts = cluster.mails_to(address)
        assert sum(counts.values()) == 2, (address, counts)
        assert len(counts) == 2, (address, counts)
    # The reviewer: one request per submission (the uploader's included).
    assert sum(cluster.mails_to(REVIEWER).values()) == len(KILLED_SUBMITTERS) + 1
    survivors = {
        row.executor_id
        for row in cluster.sql(
            "SELECT executor_id FROM dbos.workflow_status WHERE workflow_uuid LIKE "
            "'credential-review-%'"
        )
    }
    assert "local" not in survivors, survivors


def check_sigterm_drains_and_hands_over(cluster: Cluster) -> None:
    with cluster.client("b") as b:
        headers = practitioner(b, DRAINED)
        today = datetime.now(UTC).date()
        entry = {
            "category": "medical_license",
            "issuing_authority": "State Medical Board",
            "issued_on": (today - timedelta(days=400)).isoformat(),
            "expires_on": (today + timedelta(days=500)).isoformat(),
            "document_number": "MD-448813",
        }
        built = b.build_request(
            "POST",
            "/api/credentials/submissions",
            headers=headers,
            data={"metadata": json.dumps([entry])},
            files=[("files", ("licence.pdf", valid_pdf(pad_to=5000), "application/pdf"))],
        )
        body = built.read()
        terminated = threading.Event()

        def slowly() -> Iterator[bytes]:
            yield body[: len(body) // 2]
            terminated.wait(TIMEOUT)
            time.sleep(0.5)  # the replica is shutting down by now
            yield body[len(body) // 2 :]

        replica = cluster.processes["b"]
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(
                b.post,
                "/api/credentials/submissions",
                content=slowly(),
                headers={**headers, "Content-Type": built.headers["Content-Type"]},
            )
            time.sleep(0.5)
            replica.process.send_signal(signal.SIGTERM)
            terminated.set()
            response = pending.result(timeout=TIMEOUT)
    assert response.status_code == 201, response.text
    # uvicorn shuts down gracefully, then exits by the signal it caught (-SIGTERM).
    assert replica.wait(TIMEOUT) in (0, -signal.SIGTERM), replica.output()
    assert "Application shutdown complete." in replica.output()
    assert not _ready(cluster.replicas.pop("b"))

    def taken_over() -> bool:
        rows = cluster.sql(
            "SELECT executor_id FROM dbos.workflow_status WHERE status = 'PENDING' "
            "AND workflow_uuid LIKE 'credential-review-%'"
        )
        return len(rows) == 1 and rows[0].executor_id == "local-3"

    wait_until(taken_over, timeout=TIMEOUT, what="the worker to take the review over")
    wait_until(
        lambda: sum(cluster.mails_to(DRAINED).values()) == 1,
        timeout=TIMEOUT,
        what="the drained submission's confirmation",
    )


def test_two_replicas_and_a_worker_share_everything(cluster: Cluster) -> None:
    check_upload_downloads_through_the_other(cluster)
    check_sign_in_refreshes_on_the_other(cluster)
    check_lockout_holds_on_both(cluster)
    check_daily_schedule_runs_once(cluster)
    check_killed_replica_reviews_finish_once(cluster)
    check_sigterm_drains_and_hands_over(cluster)
