"""A burst of health polls shares one database probe instead of queueing for probe slots."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from clinvault.health import routes


async def test_concurrent_health_checks_share_the_probe_in_flight(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[int] = []
    release = asyncio.Event()
    real = routes._select_one

    async def slow(probe: AsyncEngine, slots: asyncio.Semaphore) -> None:
        started.append(1)
        await release.wait()
        await real(probe, slots)

    monkeypatch.setattr(routes, "_select_one", slow)
    polls = [asyncio.create_task(client.get("/api/health/health")) for _ in range(20)]
    while not started:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)  # the other polls arrive while the first probe is in flight
    release.set()
    answers = await asyncio.gather(*polls)
    assert [answer.status_code for answer in answers] == [200] * 20
    assert {answer.json()["status"] for answer in answers} == {"healthy"}
    assert len(started) < 20
    # Once it has finished, the next check probes again.
    assert (await client.get("/api/health/health")).status_code == 200
    assert len(started) >= 2
