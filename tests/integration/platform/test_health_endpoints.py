"""Health, liveness, readiness and build information; a busy pool is not a dead database."""

from __future__ import annotations

from contextlib import AsyncExitStack

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from clinvault import __version__
from clinvault.bootstrap import Container


async def test_health_is_healthy_with_its_checks(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/health/health")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "healthy"
    assert body["checks"] == {"database": "ok", "storage": "ok", "keys": "ok"}


async def test_live_ready_and_info(client: httpx.AsyncClient, container: Container) -> None:
    assert (await client.get("/api/health/live")).json() == {"status": "alive"}
    ready = await client.get("/api/health/ready")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    info = (await client.get("/api/health/info")).json()
    assert info["version"] == __version__
    assert info["database"] == container.db.dialect
    assert info["uptime_seconds"] >= 0
    text = str(info).lower()
    assert "password" not in text
    assert "://" not in text


async def test_a_busy_request_pool_is_not_a_dead_database(
    client: httpx.AsyncClient, container: Container
) -> None:
    pool = container.db.engine.pool
    capacity = pool.size() + pool._max_overflow  # type: ignore[attr-defined]
    held: list[AsyncConnection] = []
    async with AsyncExitStack() as stack:
        for _ in range(capacity):
            held.append(await stack.enter_async_context(container.db.engine.connect()))
        assert pool.checkedout() == capacity  # type: ignore[attr-defined]
        response = await client.get("/api/health/health")
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "healthy"
    assert len(held) == capacity


async def test_unhealthy_when_a_component_fails(
    client: httpx.AsyncClient, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken() -> None:
        raise OSError("bucket unreachable")

    monkeypatch.setattr(container.storage, "check", broken)
    response = await client.get("/api/health/health")
    assert response.status_code == 503
    assert response.json()["status"] == "unhealthy"
    assert response.json()["checks"]["storage"] == "unavailable"
    assert (await client.get("/api/health/ready")).status_code == 503
    assert (await client.get("/api/health/live")).status_code == 200
