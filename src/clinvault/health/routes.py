"""Liveness, readiness and the records-platform health path."""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from clinvault import __version__
from clinvault.deps import ContainerDep

log = structlog.get_logger(__name__)

router = APIRouter()


@router.get("/healthz", name="health.liveness", include_in_schema=False)
async def liveness() -> dict[str, str]:
    return {"status": "ok"}


async def _probe(container: ContainerDep) -> dict[str, str]:
    async def database() -> None:
        async with container.db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    checks: dict[str, Any] = {
        "database": database(),
        "storage": container.storage.check(),
        "keys": container.keys.check(),
    }
    results: dict[str, str] = {}
    for name, probe in checks.items():
        try:
            await asyncio.wait_for(probe, timeout=3)
            results[name] = "ok"
        except Exception as exc:  # readiness reports, never raises
            results[name] = "unavailable"
            # Adapter messages name the fix (a bucket, a key id), never data.
            log.warning("health.check.failed", check=name, reason=str(exc)[:300])
    return results


@router.get("/readyz", name="health.readiness", include_in_schema=False)
async def readiness(container: ContainerDep) -> JSONResponse:
    results = await _probe(container)
    ready = all(value == "ok" for value in results.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": results},
        status_code=200 if ready else 503,
    )


@router.get("/api/health/health", name="health.status", tags=["health"])
async def health(container: ContainerDep) -> JSONResponse:
    results = await _probe(container)
    ready = all(value == "ok" for value in results.values())
    return JSONResponse(
        {"status": "healthy" if ready else "degraded", "version": __version__, "checks": results},
        status_code=200 if ready else 503,
    )
