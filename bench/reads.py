"""Audited patient reads against a bare FastAPI + asyncpg INSERT, in one run.

The measured path: `GET /api/patients/{id}` with a doctor's bearer token on
`clinvault serve --workers N` against a fresh PostgreSQL database: token check,
tenant-scoped read of an encrypted patient row, decryption, and one audit
event inserted in the request's transaction. The baseline: bench/bare_insert_app.py
served by uvicorn with the same worker count against the same database, one
INSERT per request. The load generator (async httpx, closed loop, one keep-alive
connection per simulated client) runs on the same machine and shares its cores.

With `--workers 1,2` each worker count is measured in turn, both sides, and
the growth from one worker to the next is printed: the scaling curve.

    .venv/bin/python bench/reads.py [--concurrency 32] [--seconds 20] [--patients 200]
                                    [--workers 2]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import asyncpg
import httpx
from _common import (
    Deployment,
    clinvault_server,
    deployment,
    free_port,
    login,
    machine,
    opened,
    percentile,
    run_main,
    seed_accounts,
    serving,
)
from _load import LoadResult, RequestSpec, closed_loop
from bare_insert_app import TABLE

from clinvault.identity.principal import Role

GOAL_RATIO = 0.75
GOAL_P99_MS = 50.0


def patient_payload(index: int) -> dict[str, object]:
    return {
        "first_name": f"Bench{index:05d}",
        "last_name": "Reader",
        "date_of_birth": f"19{50 + index % 50:02d}-0{1 + index % 9}-1{index % 10}",
        "gender": "female" if index % 2 else "male",
        "phone": f"+1202555{index % 10000:04d}",
        "email": f"bench{index}@example.org",
        "blood_type": "O+",
        "allergies": "none known",
        "emergency_contact": "next of kin",
    }


async def create_patients(base_url: str, headers: dict[str, str], count: int) -> list[str]:
    ids: list[str] = []
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as client:
        for index in range(count):
            response = await client.post("/api/patients/", json=patient_payload(index))
            if response.status_code != 201:
                raise RuntimeError(
                    f"creating a patient failed: {response.status_code} {response.text}"
                )
            ids.append(str(response.json()["id"]))
    return ids


async def measure_clinvault(
    target: Deployment, patients: int, concurrency: int, seconds: float, workers: int
) -> tuple[LoadResult, list[str]]:
    async with opened(target) as container:
        accounts = await seed_accounts(container, [Role.DOCTOR, Role.CLERK])
    async with clinvault_server(target, workers=workers) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
            clerk = await login(client, accounts[Role.CLERK].email)
            doctor = await login(client, accounts[Role.DOCTOR].email)
        ids = await create_patients(server.base_url, clerk, patients)

        def read(sequence: int) -> RequestSpec:
            return ("GET", f"/api/patients/{ids[sequence % len(ids)]}", doctor)

        result = await closed_loop(
            server.base_url,
            read,
            concurrency=concurrency,
            seconds=seconds,
            server_group=server.process.pid,
        )
    return result, ids


async def measure_bare(
    target: Deployment, ids: list[str], concurrency: int, seconds: float, workers: int
) -> LoadResult:
    dsn = target.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(TABLE)
    finally:
        await conn.close()
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "bare_insert_app:create_app", "--factory",
        "--app-dir", str(Path(__file__).parent), "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(workers), "--no-access-log", "--no-server-header",
        "--log-level", "warning",
    ]  # fmt: skip
    env = {"BENCH_BARE_DSN": dsn}
    async with serving(command, env, target.home / "bare.log", port=port) as server:

        def read(sequence: int) -> RequestSpec:
            return ("GET", f"/api/patients/{ids[sequence % len(ids)]}", {})

        return await closed_loop(
            server.base_url,
            read,
            concurrency=concurrency,
            seconds=seconds,
            server_group=server.process.pid,
        )


async def run(concurrency: int, seconds: float, patients: int, workers: list[int]) -> None:
    print(f"machine: {machine()}")
    print(
        f"GET /api/patients/{{id}}, {concurrency} connections, {seconds:.0f} s measured, "
        "PostgreSQL, load generator on the same cores"
    )
    started = time.perf_counter()
    curve: list[tuple[int, LoadResult, LoadResult]] = []
    for count in workers:
        async with deployment("postgresql") as target:
            audited, ids = await measure_clinvault(target, patients, concurrency, seconds, count)
            bare = await measure_bare(target, ids, concurrency, seconds, count)
        curve.append((count, audited, bare))
        print(f"{count} uvicorn worker{'s' if count > 1 else ''}:")
        print(bare.line("bare FastAPI+asyncpg INSERT"))
        print(audited.line("clinvault audited read"))
        ratio = audited.rate / bare.rate
        p99_ms = percentile(audited.latencies, 0.99) * 1000
        print(f"  ratio audited/bare: {ratio:.2f} (goal >= {GOAL_RATIO})")
        print(f"  audited p99: {p99_ms:.1f} ms (goal <= {GOAL_P99_MS:.0f} ms)")
        if audited.cpu_ms_per_request and bare.cpu_ms_per_request:
            cpu_ratio = audited.cpu_ms_per_request / bare.cpu_ms_per_request
            print(f"  server CPU per request audited/bare: {cpu_ratio:.1f}x (goal <= 1.3x)")
        if audited.errors or bare.errors:
            print(f"  statuses: audited {audited.statuses}, bare {bare.statuses}")
    for (before, audited_a, bare_a), (after, audited_b, bare_b) in itertools.pairwise(curve):
        print(
            f"scaling {before} -> {after} workers: audited x{audited_b.rate / audited_a.rate:.2f}, "
            f"bare x{bare_b.rate / bare_a.rate:.2f}"
        )
    print(f"  total {time.perf_counter() - started:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--patients", type=int, default=200)
    parser.add_argument("--workers", default="2", help="uvicorn workers, e.g. 1,2")
    args = parser.parse_args()
    workers = [int(count) for count in args.workers.split(",")]
    run_main(run(args.concurrency, args.seconds, args.patients, workers))


if __name__ == "__main__":
    main()
