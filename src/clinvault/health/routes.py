"""Liveness, readiness, build information and the records-platform health path.

The database probe has its own connection budget: a connection of its own (no
pool) and at most PROBE_CONNECTIONS at once, so a busy request pool is never
reported as a dead database; concurrent checks share the probe in flight.
"""

from __future__ import annotations

import asyncio
import hmac
import platform
import time
from typing import Any

import structlog
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from clinvault import __version__
from clinvault.api_contract import problem_responses
from clinvault.audit.chain import count_unchained
from clinvault.deps import ContainerDep, SessionDep, bearer_token
from clinvault.errors import PermissionDenied
from clinvault.health.metrics import CONTENT_TYPE, WORKFLOW_STATES, Metrics
from clinvault.identity.authn import authenticate_bearer
from clinvault.identity.principal import Role
from clinvault.workflows import runtime

log = structlog.get_logger(__name__)

router = APIRouter()

PROBE_CONNECTIONS = 2
PROBE_TIMEOUT_SECONDS = 3.0
STARTED = time.monotonic()
_probes: dict[int, tuple[AsyncEngine, AsyncEngine, asyncio.Semaphore]] = {}
_inflight: dict[int, asyncio.Task[None]] = {}


async def _select_one(probe: AsyncEngine, slots: asyncio.Semaphore) -> None:
    async with slots, probe.connect() as conn:
        await conn.execute(text("SELECT 1"))


def _retrieve(task: asyncio.Task[None]) -> None:
    """Every waiter may have timed out: read the outcome so that it is never unreported."""
    if not task.cancelled():
        task.exception()


def _probe_budget(engine: AsyncEngine) -> tuple[AsyncEngine, asyncio.Semaphore]:
    """An engine on the same database that opens its own connections (outside the request
    pool), and the few of them the probes may hold at once."""
    found = _probes.get(id(engine))
    if found is None or found[0] is not engine:
        probe = create_async_engine(engine.url, poolclass=NullPool)
        found = (engine, probe, asyncio.Semaphore(PROBE_CONNECTIONS))
        _probes[id(engine)] = found
    return found[1], found[2]


@router.get("/healthz", name="health.liveness", include_in_schema=False)
async def liveness() -> dict[str, str]:
    return {"status": "ok"}


async def _probe(container: ContainerDep) -> dict[str, str]:
    async def database() -> None:
        probe, slots = _probe_budget(container.db.engine)
        # Concurrent checks share the probe in flight: a burst of polls costs one
        # connection and none of them times out queueing behind the others.
        running = _inflight.get(id(probe))
        if (
            running is None
            or running.done()
            or running.get_loop() is not asyncio.get_running_loop()
        ):
            running = asyncio.ensure_future(_select_one(probe, slots))
            running.add_done_callback(_retrieve)
            _inflight[id(probe)] = running
        await asyncio.shield(running)

    checks: dict[str, Any] = {
        "database": database(),
        "storage": container.storage.check(),
        "keys": container.keys.check(),
    }
    results: dict[str, str] = {}
    for name, probe in checks.items():
        try:
            await asyncio.wait_for(probe, timeout=PROBE_TIMEOUT_SECONDS)
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
    """`healthy` (200) or `unhealthy` (503), as the records-platform design answers,
    with each component's check."""
    results = await _probe(container)
    ready = all(value == "ok" for value in results.values())
    return JSONResponse(
        {"status": "healthy" if ready else "unhealthy", "version": __version__, "checks": results},
        status_code=200 if ready else 503,
    )


@router.get("/api/health/live", name="health.live", tags=["health"])
async def live() -> dict[str, str]:
    """The process answers (no dependency is checked)."""
    return {"status": "alive"}


@router.get("/api/health/ready", name="health.ready", tags=["health"])
async def ready(container: ContainerDep) -> JSONResponse:
    """Ready for traffic when the database, storage and keys answer: 200, otherwise 503."""
    return await readiness(container)


@router.get("/api/health/info", name="health.info", tags=["health"])
async def info(container: ContainerDep) -> dict[str, Any]:
    """Version, build, database kind and uptime; nothing secret."""
    return {
        "name": "clinvault",
        "version": __version__,
        "build": {"python": platform.python_version()},
        "database": container.db.dialect,
        "uptime_seconds": round(time.monotonic() - STARTED, 3),
    }


@router.get(
    "/api/health/metrics",
    name="health.metrics",
    tags=["health"],
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus text exposition format 0.0.4",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        },
        **problem_responses(401, 403),
    },
)
async def metrics(request: Request, session: SessionDep, container: ContainerDep) -> Response:
    """Prometheus text format, for organization administrators or the configured scrape
    token (`CLINVAULT_METRICS_SCRAPE_TOKEN`)."""
    token = bearer_token(request)
    scrape = container.settings.metrics_scrape_token
    if scrape is None or not hmac.compare_digest(
        token.encode(), scrape.get_secret_value().encode()
    ):
        principal = await authenticate_bearer(container, session, token)
        if Role.ORG_ADMIN not in principal.roles and not principal.is_platform_admin:
            raise PermissionDenied(
                "Metrics are for organization administrators or the configured scrape token."
            )
    collected: Metrics = request.app.state.metrics
    collected.observe_backlog(
        await runtime.backlog(WORKFLOW_STATES), await count_unchained(container.db)
    )
    return Response(collected.exposition(), media_type=CONTENT_TYPE)
