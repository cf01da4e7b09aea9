"""A burst of sign-ins queues on the hashing pool; health and other reads keep answering."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx
import pytest
from tests.factories import DEFAULT_PASSWORD, create_org, create_user
from tests.integration.records.conftest import session_for

from clinvault.bootstrap import Container
from clinvault.identity import passwords, service
from clinvault.identity.principal import Role

SIGN_INS = 100
T = TypeVar("T")


async def test_health_and_reads_stay_up_during_100_simultaneous_sign_ins(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    user = await create_user(container, org, roles=[Role.NURSE])
    headers = await session_for(container, user)
    assert passwords.HASH_WORKERS >= 1

    async def sign_in() -> int:
        body = {"username": user.email, "password": DEFAULT_PASSWORD}
        return (await client.post("/api/auth/login", json=body)).status_code

    health: list[int] = []
    reads: list[float] = []
    done = asyncio.Event()

    async def poll() -> None:
        while not done.is_set():
            health.append((await client.get("/api/health/health")).status_code)
            started = time.perf_counter()
            read = await client.get("/api/auth/profile", headers=headers)
            assert read.status_code == 200, read.text
            reads.append(time.perf_counter() - started)
            await asyncio.sleep(0.05)

    poller = asyncio.create_task(poll())
    statuses = await asyncio.gather(*(sign_in() for _ in range(SIGN_INS)))
    done.set()
    await poller
    assert statuses == [200] * SIGN_INS
    assert health
    assert set(health) == {200}
    assert len(reads) >= 1


async def test_a_sign_in_holds_no_pooled_connection_while_its_password_hashes(
    client: httpx.AsyncClient, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = await create_org(container)
    user = await create_user(container, org, roles=[Role.NURSE])
    pool = container.db.engine.pool
    held: list[int] = []

    def counting(verify: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
        async def wrapped(*args: object) -> T:
            held.append(pool.checkedout())  # type: ignore[attr-defined]
            return await verify(*args)

        return wrapped

    monkeypatch.setattr(service, "verify_password", counting(service.verify_password))
    monkeypatch.setattr(service, "dummy_verify", counting(service.dummy_verify))
    known = {"username": user.email, "password": DEFAULT_PASSWORD}
    assert (await client.post("/api/auth/login", json=known)).status_code == 200
    unknown = {"username": "nobody-here@example.org", "password": DEFAULT_PASSWORD}
    assert (await client.post("/api/auth/login", json=unknown)).status_code == 401
    assert held == [0, 0]
