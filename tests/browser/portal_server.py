"""A real clinvault server for browser tests, in its own process and its own home.

`seed` runs in a separate process too: it migrates the database and creates
an organization and users through the identity service, so the test process
never swaps the global field cipher of the session's app.
Run as a script: `python portal_server.py seed HOME JSON` prints nothing and
exits 0 once the accounts exist.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from tests.conftest import backend, create_pg_database, drop_pg_database

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
PG_DATABASE_RECORD = "postgres-database-url"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(home: Path, port: int, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLINVAULT_")}
    env.update(
        {
            "PYTHONPATH": os.pathsep.join([str(SRC), str(ROOT)]),
            "CLINVAULT_ENV": "test",
            "CLINVAULT_HOME": str(home),
            "CLINVAULT_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "CLINVAULT_LOG_LEVEL": "WARNING",
            "CLINVAULT_SECURITY__COOKIE_SECURE": "true",
        }
    )
    # Settings a test module chooses for its server (a database URL, a short timeout).
    env.update(extra or {})
    if "CLINVAULT_DATABASE_URL" not in env and backend() == "postgresql":
        env["CLINVAULT_DATABASE_URL"] = _postgres_database_of(home)
    return env


def _postgres_database_of(home: Path) -> str:
    """On the PostgreSQL run, each server home gets a database of its own, created on
    first use and dropped when its server stops (`running_server`)."""
    record = home / PG_DATABASE_RECORD
    if not record.exists():
        record.write_text(asyncio.run(create_pg_database()))
    return record.read_text()


def _drop_postgres_database_of(home: Path) -> None:
    record = home / PG_DATABASE_RECORD
    if record.exists():
        asyncio.run(drop_pg_database(record.read_text()))
        record.unlink()


@dataclass(frozen=True)
class Account:
    email: str
    password: str
    display_name: str
    roles: tuple[str, ...]
    # A practitioner profile with this NPI is created when set.
    npi: str | None = None


def seed(
    home: Path,
    port: int,
    organization: str,
    accounts: list[Account],
    extra_env: dict[str, str] | None = None,
) -> None:
    """Migrate the server's database and create the accounts (in a child process)."""
    payload = json.dumps(
        {
            "organization": organization,
            "accounts": [
                {
                    "email": a.email,
                    "password": a.password,
                    "display_name": a.display_name,
                    "roles": list(a.roles),
                    "npi": a.npi,
                }
                for a in accounts
            ],
        }
    )
    subprocess.run(
        [sys.executable, __file__, "seed", payload],
        env=server_env(home, port, extra_env),
        check=True,
        timeout=120,
    )


def api_bearer(api: httpx.Client, account: Account) -> dict[str, str]:
    """The Authorization header of `account`, signed in through the API."""
    answer = api.post(
        "/api/auth/login", json={"username": account.email, "password": account.password}
    )
    assert answer.status_code == 200, answer.text
    return {"authorization": f"Bearer {answer.json()['access_token']}"}


def register_linked_patient(
    api: httpx.Client, clerk: dict[str, str], patient: Account, fields: dict[str, str]
) -> str:
    """The front desk registers a chart with `fields` and links `patient`'s account to it;
    returns the chart's id."""
    created = api.post("/api/patients/", json=fields, headers=clerk)
    assert created.status_code == 201, created.text
    patient_id = str(created.json()["id"])
    user_id = api.get("/api/auth/profile", headers=api_bearer(api, patient)).json()["id"]
    linked = api.post(
        f"/api/patients/{patient_id}/link-user", json={"user_id": user_id}, headers=clerk
    )
    assert linked.status_code == 200, linked.text
    return patient_id


@dataclass(frozen=True)
class Server:
    base_url: str
    log: Path


@contextmanager
def running_server(
    home: Path, port: int, log: Path, extra_env: dict[str, str] | None = None
) -> Iterator[Server]:
    """uvicorn serving `create_app()` on 127.0.0.1:`port` until the block ends."""
    base_url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable, "-m", "uvicorn", "clinvault.main:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
    ]  # fmt: skip
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, env=server_env(home, port, extra_env), stdout=output, stderr=subprocess.STDOUT
        )
        try:
            _wait_ready(base_url, process, log)
            yield Server(base_url=base_url, log=log)
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
            _drop_postgres_database_of(home)


def _wait_ready(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"server not ready in time:\n{log.read_text(errors='replace')}")


async def _seed_main(payload: str) -> None:
    from tests.factories import create_org, create_user

    from clinvault.bootstrap import build_container
    from clinvault.config import Settings
    from clinvault.migrate import upgrade_async
    from clinvault.models.credentials import PractitionerProfile

    data = json.loads(payload)
    settings = Settings()
    await upgrade_async(settings)
    container = build_container(settings)
    try:
        org = await create_org(container, name=data["organization"])
        for account in data["accounts"]:
            user = await create_user(
                container,
                org,
                roles=account["roles"],
                email=account["email"],
                password=account["password"],
                display_name=account["display_name"],
            )
            if account.get("npi"):
                async with container.db.unit_of_work() as session:
                    session.add(
                        PractitionerProfile(
                            organization_id=org.id, user_id=user.id, npi=account["npi"]
                        )
                    )
    finally:
        await container.close()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "seed":
        asyncio.run(_seed_main(sys.argv[2]))
    else:
        raise SystemExit("usage: portal_server.py seed JSON")
