"""A burst of simultaneous sign-ins against what argon2id allows on the cores, in one run.

The measured path: 100 (by default) `POST /api/auth/login` sent at once to
`clinvault serve --workers 2`, each with a different account's right password,
while one signed-in doctor keeps reading a patient (`GET /api/patients/{id}`,
closed loop, 2 connections) and a monitor polls `/api/health/health` every
100 ms. The floor: the same number of argon2id verifications with the service's
own parameters, spread over one process per core, measured in the same run.

Printed: sign-ins/s against the floor's verifications/s (their ratio), the
reads' p50/p99 during the burst, and the health answers seen during it.

    .venv/bin/python bench/logins.py [--accounts 100] [--backend postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from concurrent.futures import ProcessPoolExecutor

import httpx
from _common import (
    PASSWORD,
    Deployment,
    clinvault_server,
    deployment,
    login,
    machine,
    opened,
    percentile,
    run_main,
)
from _load import Connection
from reads import patient_payload

from clinvault.identity.admin_service import create_organization, create_user
from clinvault.identity.passwords import HASHER
from clinvault.identity.principal import Role

WORKERS = 2
GOAL_READ_P99_MS = 100.0


def _verify_many(stored: str, count: int) -> int:
    for _ in range(count):
        HASHER.verify(stored, PASSWORD)
    return count


def argon2_floor(count: int) -> float:
    """Verifications per second with every core busy, the same parameters as sign-in."""
    stored = HASHER.hash(PASSWORD)
    cores = os.cpu_count() or 1
    shares = [count // cores + (1 if i < count % cores else 0) for i in range(cores)]
    with ProcessPoolExecutor(cores) as pool:
        list(pool.map(_verify_many, [stored] * cores, [1] * cores))  # start the workers
        started = time.perf_counter()
        done = sum(pool.map(_verify_many, [stored] * cores, shares))
        return done / (time.perf_counter() - started)


async def seed(target: Deployment, accounts: int) -> tuple[list[str], str, str]:
    async with opened(target) as container, container.db.unit_of_work() as session:
        org = await create_organization(session, name="Burst Clinic", slug="burst-clinic")
        emails = []
        for index in range(accounts):
            email = f"nurse{index:03d}@burst-clinic.example.org"
            await create_user(
                session,
                container.settings,
                organization_id=org.id,
                email=email,
                password=PASSWORD,
                roles=[Role.NURSE],
                display_name=f"Nurse {index}",
            )
            emails.append(email)
        for role in (Role.DOCTOR, Role.CLERK):
            await create_user(
                session,
                container.settings,
                organization_id=org.id,
                email=f"{role.value}@burst-clinic.example.org",
                password=PASSWORD,
                roles=[role],
                display_name=f"Burst {role.value}",
            )
    return emails, "doctor@burst-clinic.example.org", "clerk@burst-clinic.example.org"


async def burst(backend: str, accounts: int) -> None:
    async with deployment(backend) as target:
        emails, doctor_email, clerk_email = await seed(target, accounts)
        async with clinvault_server(target, workers=WORKERS) as server:
            async with httpx.AsyncClient(base_url=server.base_url, timeout=120) as client:
                clerk = await login(client, clerk_email)
                doctor = await login(client, doctor_email)
                created = await client.post(
                    "/api/patients/",
                    json=patient_payload(0),
                    headers=clerk,
                )
                if created.status_code != 201:
                    raise RuntimeError(f"patient: {created.status_code} {created.text}")
                patient_path = f"/api/patients/{created.json()['id']}"

            stop = asyncio.Event()
            read_latencies: list[float] = []
            read_statuses: dict[int, int] = {}
            health: dict[int, int] = {}

            async def reader() -> None:
                connection = await Connection.open(server.base_url)
                try:
                    while not stop.is_set():
                        started = time.perf_counter()
                        reply = await connection.request("GET", patient_path, doctor)
                        read_latencies.append(time.perf_counter() - started)
                        read_statuses[reply.status] = read_statuses.get(reply.status, 0) + 1
                finally:
                    await connection.close()

            async def monitor() -> None:
                connection = await Connection.open(server.base_url)
                try:
                    while not stop.is_set():
                        reply = await connection.request("GET", "/api/health/health")
                        health[reply.status] = health.get(reply.status, 0) + 1
                        await asyncio.sleep(0.1)
                finally:
                    await connection.close()

            async def sign_in(email: str, client: httpx.AsyncClient) -> int:
                reply = await client.post(
                    "/api/auth/login", json={"username": email, "password": PASSWORD}
                )
                return reply.status_code

            limits = httpx.Limits(max_connections=accounts, max_keepalive_connections=0)
            async with httpx.AsyncClient(
                base_url=server.base_url, timeout=300, limits=limits
            ) as client:
                background = [asyncio.create_task(reader()) for _ in range(2)]
                background.append(asyncio.create_task(monitor()))
                await asyncio.sleep(0.5)
                started = time.perf_counter()
                statuses = await asyncio.gather(*(sign_in(e, client) for e in emails))
                elapsed = time.perf_counter() - started
                stop.set()
                await asyncio.gather(*background)

    floor = argon2_floor(accounts)
    signed_in = sum(1 for status in statuses if status == 200)
    rate = signed_in / elapsed
    print(f"{backend}, {WORKERS} workers, {accounts} simultaneous sign-ins:")
    print(f"  argon2id floor ({os.cpu_count()} processes)   {floor:8.1f} verifications/s")
    print(
        f"  sign-ins                         {rate:8.1f} /s  ({signed_in} ok of {accounts}, "
        f"all done in {elapsed:.1f} s)"
    )
    print(f"    ratio sign-ins/floor: {rate / floor:.2f}")
    p50 = percentile(read_latencies, 0.5) * 1000
    p99 = percentile(read_latencies, 0.99) * 1000
    print(
        f"  reads during the burst: {len(read_latencies)}, p50 {p50:.1f} ms, p99 {p99:.1f} ms "
        f"(goal <= {GOAL_READ_P99_MS:.0f} ms), statuses {read_statuses}"
    )
    print(f"  health during the burst: {health} (goal: only 200)")


async def run(accounts: int, backends: list[str]) -> None:
    print(f"machine: {machine()}")
    for backend in backends:
        await burst(backend, accounts)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--backends", default="postgresql,sqlite")
    args = parser.parse_args()
    run_main(run(args.accounts, args.backends.split(",")))


if __name__ == "__main__":
    main()
