"""The demo seen through a running `serve`: the printed address answers, the partner clinic's
doctor reads the shared care plans through the API, and the demo doctor's first upload works."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.integration.cli.conftest import ROOT, Cli
from tests.unit.filecheck.corpus import valid_pdf

pytestmark = pytest.mark.slow

START_TIMEOUT = 90.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def _serving(cli: Cli, env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`serve` with no --host/--port: it listens where the settings say."""
    with log.open("wb") as sink:
        process = subprocess.Popen(
            cli.command("serve"),
            cwd=ROOT,
            env={**cli.env, **env},
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _wait_for(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            pytest.fail(f"serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"serve did not answer at {base} in {START_TIMEOUT}s:\n{log.read_text()}")
        time.sleep(0.2)


def _sign_in(client: httpx.Client, email: str, password: str) -> dict[str, str]:
    reply = client.post("/api/auth/login", json={"username": email, "password": password})
    assert reply.status_code == 200, reply.text
    return {"authorization": f"Bearer {reply.json()['access_token']}"}


def _get(client: httpx.Client, path: str, headers: dict[str, str]) -> Any:
    reply = client.get(path, headers=headers)
    assert reply.status_code == 200, f"{path}: {reply.status_code} {reply.text}"
    return reply.json()


def test_the_partner_doctor_reads_the_shared_demo_plans_at_the_printed_address(
    fresh_cli: Cli, tmp_path: Path
) -> None:
    port = _free_port()
    env = {"CLINVAULT_PUBLIC_URL": "", "CLINVAULT_HOST": "127.0.0.1", "CLINVAULT_PORT": str(port)}
    demo = fresh_cli.run("demo", env=env)
    assert demo.returncode == 0, demo.stderr
    printed = re.search(r"Sign in at (\S+)/\n", demo.stdout)
    assert printed is not None, demo.stdout
    password = (fresh_cli.home / "demo-password").read_text().strip()
    assert f"password for all: {password})" in demo.stdout

    log = tmp_path / "serve.log"
    with _serving(fresh_cli, env, log) as process:
        base = printed.group(1)
        assert base == f"http://127.0.0.1:{port}"
        _wait_for(base, process, log)
        with httpx.Client(base_url=base, timeout=30) as client:
            partner = _sign_in(client, "partner.doctor@healthcare.com", password)
            listed = _get(client, "/api/care-plans/", partner)
            assert listed["total"] == 4  # three shared with the clinic or its doctor, one own
            plans = {item["title"]: item for item in listed["items"]}
            diabetes = plans["Type 2 diabetes: first six months"]
            assert diabetes["version"] == 3
            history = _get(client, f"/api/care-plans/{diabetes['id']}/versions", partner)
            assert [v["number"] for v in history] == [1, 2, 3]
            assert history[2]["author_name"] == "Dr. Parker Partner"
            threads = _get(client, f"/api/care-plans/{diabetes['id']}/comments", partner)
            assert any(thread["replies"] for thread in threads)
            incoming = _get(client, "/api/care-plans/shares/incoming", partner)
            assert sorted(share["level"] for share in incoming) == ["comment", "edit", "view"]
            assert all(share["state"] == "live" for share in incoming)

            # The view-level share lets the partner doctor read, not comment.
            pressure = plans["Blood pressure follow-up"]
            refused = client.post(
                f"/api/care-plans/{pressure['id']}/comments",
                json={"body": "Can I comment?"},
                headers=partner,
            )
            assert refused.status_code == 403, refused.text

            # Demo Health's doctor sees the partner clinic's plan shared back.
            doctor = _sign_in(client, "doctor@healthcare.com", password)
            own = _get(client, "/api/care-plans/", doctor)
            assert "Asthma action plan" in {item["title"] for item in own["items"]}

            # The demo doctor has an NPI: the first credential upload is accepted.
            entry = {
                "category": "medical_license",
                "issuing_authority": "State Medical Board",
                "issued_on": "2024-01-15",
                "expires_on": "2030-01-31",
                "document_number": "MD123456",
            }
            upload = client.post(
                "/api/credentials/submissions",
                headers=doctor,
                data={"metadata": json.dumps([entry])},
                files=[("files", ("license.pdf", valid_pdf(pad_to=2000), "application/pdf"))],
            )
            assert upload.status_code == 201, upload.text
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    assert "Traceback" not in log.read_text()
