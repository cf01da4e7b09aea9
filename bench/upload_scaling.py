"""Credential uploads as clients are added, and the server's memory per upload in flight.

Two measurements on `clinvault serve` (one worker) against a fresh database:

1. The scaling curve: the same 1 MiB PDF uploaded by 1, 4 and 16 concurrent
   clients (each on its own keep-alive connection, one submission at a time),
   printed as files/s and MiB/s with the growth from one step to the next.
2. Memory: the server's resident set (every process of its group, sampled
   every 20 ms from /proc) before and during 8 concurrent 16 MiB uploads; the
   growth divided by 8 is the memory per upload in flight (goal <= 4 MiB), and
   the resident set a few seconds after shows whether it is given back.

    .venv/bin/python bench/upload_scaling.py [--clients 1,4,16] [--uploads 32]
                                             [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time

import httpx
from _common import (
    MIB,
    clinvault_server,
    deployment,
    login,
    machine,
    opened,
    run_main,
    seed_accounts,
)
from _load import Connection, group_stats
from upload import VALID_NPI, random_pdf, submission_body

from clinvault.identity.principal import Role

GOAL_RSS_PER_UPLOAD_MIB = 4.0
RSS_UPLOADS = 8


def group_rss_bytes(group: int) -> int:
    total = 0
    for process, _ in group_stats(group):
        try:
            status = (process / "status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total


async def upload_all(
    base_url: str, headers: dict[str, str], pdf: bytes, clients: int, uploads: int
) -> float:
    """Seconds for `uploads` submissions shared among `clients` concurrent connections."""
    numbers = itertools.count()

    async def client() -> None:
        connection = await Connection.open(base_url)
        try:
            while (number := next(numbers)) < uploads:
                body, content_type = submission_body(pdf, number)
                reply = await connection.request(
                    "POST",
                    "/api/credentials/submissions",
                    {**headers, "Content-Type": content_type},
                    body,
                )
                if reply.status != 201:
                    raise RuntimeError(f"upload: {reply.status} {reply.body[:300]!r}")
        finally:
            await connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return time.perf_counter() - started


async def run_backend(backend: str, clients: list[int], uploads: int) -> None:
    async with deployment(backend) as target:
        async with opened(target) as container:
            accounts = await seed_accounts(container, [Role.DOCTOR])
        async with clinvault_server(target) as server:
            async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
                headers = await login(client, accounts[Role.DOCTOR].email)
                profile = await client.put(
                    "/api/credentials/profile", json={"npi": VALID_NPI}, headers=headers
                )
                if profile.status_code != 200:
                    raise RuntimeError(f"profile: {profile.status_code} {profile.text}")
            small = random_pdf(MIB)
            await upload_all(server.base_url, headers, small, 1, 2)  # warm up
            print(
                f"{backend}, 1 worker, {len(small) / MIB:.1f} MiB PDF, {uploads} uploads per step:"
            )
            rates: list[float] = []
            for count in clients:
                seconds = await upload_all(server.base_url, headers, small, count, uploads)
                rates.append(uploads / seconds)
                growth = f"  (x{rates[-1] / rates[-2]:.2f})" if len(rates) > 1 else ""
                print(
                    f"  {count:3d} clients: {rates[-1]:7.1f} files/s "
                    f"{rates[-1] * len(small) / MIB:7.1f} MiB/s{growth}"
                )

            large = random_pdf(16 * MIB)
            group = server.process.pid
            await upload_all(server.base_url, headers, large, 1, 1)  # warm up
            before = group_rss_bytes(group)
            peak = before
            running = asyncio.create_task(
                upload_all(server.base_url, headers, large, RSS_UPLOADS, RSS_UPLOADS)
            )
            while not running.done():
                peak = max(peak, group_rss_bytes(group))
                await asyncio.sleep(0.02)
            await running
            await asyncio.sleep(3)
            after = group_rss_bytes(group)
    per_upload = (peak - before) / RSS_UPLOADS / MIB
    print(f"  RSS during {RSS_UPLOADS} concurrent {len(large) / MIB:.0f} MiB uploads:")
    print(
        f"    before {before / MIB:.0f} MiB, peak {peak / MIB:.0f} MiB, 3 s after "
        f"{after / MIB:.0f} MiB; per upload in flight {per_upload:.1f} MiB "
        f"(goal <= {GOAL_RSS_PER_UPLOAD_MIB:.0f} MiB)"
    )


async def run(clients: list[int], uploads: int, backends: list[str]) -> None:
    print(f"machine: {machine()}")
    for backend in backends:
        await run_backend(backend, clients, uploads)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--clients", default="1,4,16")
    parser.add_argument("--uploads", type=int, default=32)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    clients = [int(count) for count in args.clients.split(",")]
    run_main(run(clients, args.uploads, args.backends.split(",")))


if __name__ == "__main__":
    main()
