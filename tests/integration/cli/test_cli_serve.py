"""`serve` migrates, answers on its port, signs the demo users in, and stops on SIGTERM;
`worker` refuses what it cannot do in one line."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from tests.integration.cli.conftest import ROOT, Cli

from clinvault.workflows import executors

pytestmark = pytest.mark.slow

START_TIMEOUT = 90.0
DEMO_PASSWORD = "a demo password for serve"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def _serving(cli: Cli, log: Path, *args: str) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = _free_port()
    with log.open("wb") as sink:
        process = subprocess.Popen(
            cli.command("serve", "--port", str(port), *args),
            cwd=ROOT,
            env={**cli.env, "CLINVAULT_LOG_LEVEL": "INFO"},
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"serve exited with {process.returncode}:\n{log.read_text()}")
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"serve did not answer /healthz in {START_TIMEOUT}s:\n{log.read_text()}"
                )
            time.sleep(0.2)
        yield process, base
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _stop(process: subprocess.Popen[bytes], log: Path) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"serve ignored SIGTERM:\n{log.read_text()}")
    # uvicorn re-raises the signal it handled once it has shut down gracefully.
    assert code in (0, -signal.SIGTERM), log.read_text()
    assert "Application shutdown complete" in log.read_text()


def test_serve_migrates_answers_and_signs_the_demo_users_in(fresh_cli: Cli, tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    with _serving(fresh_cli, log) as (process, base):
        assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
        fresh_cli.ok("demo", "--password", DEMO_PASSWORD)
        for email in ("doctor@healthcare.com", "pharmacist@healthcare.com"):
            reply = httpx.post(
                f"{base}/api/auth/login",
                json={"username": email, "password": DEMO_PASSWORD},
                timeout=30,
            )
            assert reply.status_code == 200, reply.text
            assert reply.json()["access_token"]
        _stop(process, log)
    output = log.read_text()
    assert "Traceback" not in output
    assert '"workflows.runtime.stopped"' in output


def test_serve_with_two_workers_gives_each_its_own_executor_id(cli: Cli, tmp_path: Path) -> None:
    """Each worker leases its own executor id: a file lock on SQLite, an advisory lock on
    PostgreSQL. While both run, neither id can be leased from outside."""
    log = tmp_path / "serve.log"
    with _serving(cli, log, "--workers", "2", "--no-migrate") as (process, _base):
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            free = [slot for slot in ("local", "local-2") if _leasable(cli, slot)]
            if not free:
                break
            assert time.monotonic() < deadline, (free, log.read_text())
            time.sleep(0.2)
        _stop(process, log)
    assert _leasable(cli, "local")
    assert _leasable(cli, "local-2")


def _leasable(cli: Cli, executor_id: str) -> bool:
    lease = executors.try_lease(cli.settings, executor_id)
    if lease is None:
        return False
    lease.release()
    return True


def test_worker_refuses_a_malformed_executor_id(cli: Cli) -> None:
    result = cli.run("worker", "--executor-id", "no spaces please")
    assert result.returncode == 2
    assert result.stderr.startswith("error: executor id 'no spaces please' is not valid")


def test_worker_refuses_to_run_with_workflows_disabled(cli: Cli) -> None:
    result = cli.run("worker", env={"CLINVAULT_WORKFLOWS_ENABLED": "false"})
    assert result.returncode == 2
    assert "workflows are disabled" in result.stderr
