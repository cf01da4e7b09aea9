"""What the HTTP benchmarks share: a fresh home and database, a real server
process, seeded accounts, the bare write floor, percentiles (the load generator
is in _load.py).

Every benchmark runs the real `clinvault serve` (uvicorn) in a child process on
a free port, against a fresh CLINVAULT_HOME and either its SQLite file or a
fresh PostgreSQL database that is dropped at the end.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Coroutine, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from clinvault.bootstrap import Container, build_container
from clinvault.config import Settings
from clinvault.identity.admin_service import create_organization, create_user
from clinvault.identity.principal import Role
from clinvault.migrate import upgrade_async

MIB = 1024 * 1024
ROOT = Path(__file__).resolve().parent.parent
CLINVAULT = Path(sys.executable).parent / "clinvault"
PG_ADMIN_DSN = os.environ.get(
    "CLINVAULT_BENCH_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
PASSWORD = "bench horse battery staple"


# -- figures -------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (fraction in 0..1) of unsorted values."""
    if not values:
        raise ValueError("no samples")
    ordered = sorted(values)
    rank = max(1, int(-(-fraction * len(ordered) // 1)))  # ceil, at least the first
    return ordered[min(rank, len(ordered)) - 1]


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, python {platform.python_version()}"


def timing_line(label: str, seconds: Sequence[float], size: int | None = None) -> str:
    """`label  MB/s  files/s  p50  p99`, rates from the median (one request at a time)."""
    p50, p99 = percentile(seconds, 0.5), percentile(seconds, 0.99)
    rate = f"{size / MIB / p50:8.1f} MB/s  " if size else ""
    return (
        f"  {label:<28} {rate}{1 / p50:8.1f} /s  p50 {p50 * 1000:8.2f} ms  p99 {p99 * 1000:8.2f} ms"
    )


# -- the bare floor ------------------------------------------------------------


def floor_write(path: Path, data: bytes) -> None:
    """SHA-256 + one-shot AES-256-GCM of the bytes, written and fsynced: the least any
    encrypted, checksummed, durable store must do."""
    hashlib.sha256(data).hexdigest()
    sealed = AESGCM(os.urandom(32)).encrypt(os.urandom(12), data, None)
    with path.open("wb") as handle:
        handle.write(sealed)
        handle.flush()
        os.fsync(handle.fileno())


# -- home and database ---------------------------------------------------------


@dataclass
class Deployment:
    """A fresh home (keys, objects, mail) and a fresh database, with its settings."""

    home: Path
    database_url: str
    backend: str
    env: dict[str, str] = field(default_factory=dict)

    def settings(self) -> Settings:
        return Settings(
            env="development",
            home=self.home,
            database_url=self.database_url,
            log_level="WARNING",
            log_json=True,
        )


async def _admin(statement: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@asynccontextmanager
async def deployment(backend: str) -> AsyncIterator[Deployment]:
    """A migrated, empty clinvault on `backend` (sqlite | postgresql), removed afterwards."""
    home = Path(tempfile.mkdtemp(prefix=f"clinvault-bench-{backend}-"))
    name = f"clinvault_bench_{os.getpid()}_{secrets.token_hex(4)}"
    if backend == "postgresql":
        await _admin(f'CREATE DATABASE "{name}"')
        base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
        url = f"{base}/{name}"
    elif backend == "sqlite":
        url = f"sqlite+aiosqlite:///{home / 'data' / 'clinvault.db'}"
    else:
        raise ValueError(f"unknown backend {backend!r}: use sqlite or postgresql")
    env = {
        "CLINVAULT_ENV": "development",
        "CLINVAULT_HOME": str(home),
        "CLINVAULT_DATABASE_URL": url,
        "CLINVAULT_LOG_LEVEL": "WARNING",
    }
    built = Deployment(home=home, database_url=url, backend=backend, env=env)
    try:
        await upgrade_async(built.settings())
        yield built
    finally:
        if backend == "postgresql":
            await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(home, ignore_errors=True)


@asynccontextmanager
async def opened(target: Deployment) -> AsyncIterator[Container]:
    """The service layer's container on the deployment, for seeding."""
    container = build_container(target.settings())
    try:
        yield container
    finally:
        await container.close()


@dataclass
class Account:
    email: str
    user_id: str
    organization_id: str


async def seed_accounts(
    container: Container, roles: Sequence[Role], *, slug: str = "bench-clinic"
) -> dict[Role, Account]:
    """One provider organization and one signed-in-able account per role."""
    async with container.db.unit_of_work() as session:
        org = await create_organization(session, name="Bench Clinic", slug=slug)
        accounts: dict[Role, Account] = {}
        for role in roles:
            email = f"{role.value.replace('_', '-')}@{slug}.example.org"
            user = await create_user(
                session,
                container.settings,
                organization_id=org.id,
                email=email,
                password=PASSWORD,
                roles=[role],
                display_name=f"Bench {role.value}",
            )
            accounts[role] = Account(email, str(user.id), str(org.id))
    return accounts


# -- a real server process -----------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path


async def _wait_ready(server: Server, path: str, within: float) -> None:
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(base_url=server.base_url, timeout=2) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise RuntimeError(
                    f"server exited with {server.process.returncode}:\n"
                    + server.log_path.read_text()[-4000:]
                )
            try:
                if (await client.get(path)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"server not ready after {within}s:\n{server.log_path.read_text()[-4000:]}")


@asynccontextmanager
async def serving(
    command: Sequence[str],
    env: dict[str, str],
    log_path: Path,
    *,
    port: int,
    ready_path: str = "/healthz",
    ready_within: float = 180.0,
) -> AsyncIterator[Server]:
    """Run `command` (which listens on `port`) until the block ends, then SIGTERM it."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: ASYNC220 - started once, reaped below
            list(command),
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,
        )
    server = Server(process, f"http://127.0.0.1:{port}", log_path)
    try:
        await _wait_ready(server, ready_path, ready_within)
        yield server
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                await asyncio.to_thread(process.wait, 30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                await asyncio.to_thread(process.wait)


def clinvault_serve(target: Deployment, *, workers: int = 1) -> tuple[list[str], int]:
    port = free_port()
    command = [
        str(CLINVAULT), "serve", "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(workers), "--no-migrate",
    ]  # fmt: skip
    return command, port


@asynccontextmanager
async def clinvault_server(target: Deployment, *, workers: int = 1) -> AsyncIterator[Server]:
    command, port = clinvault_serve(target, workers=workers)
    log_path = target.home / f"serve-{port}.log"
    async with serving(command, target.env, log_path, port=port) as server:
        yield server


async def login(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    response = await client.post("/api/auth/login", json={"username": email, "password": PASSWORD})
    if response.status_code != 200:
        raise RuntimeError(f"sign-in failed: {response.status_code} {response.text}")
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def run_main(main: Coroutine[Any, Any, None]) -> None:
    """asyncio.run, with SIGTERM handled like Ctrl-C so that the fresh database and
    home are removed and the server is stopped on either."""

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    asyncio.run(main)
