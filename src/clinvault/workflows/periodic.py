"""Light periodic jobs on the runtime's event loop, for as long as the runtime runs.

For housekeeping that must run at launch and then every few seconds in every
process (each run idempotent), where a DBOS schedule would record a workflow
per tick. Call `every()` from a workflow module's `on_launch()`: the runtime
launches on the running event loop, the one the container's engine belongs
to. A job stops within `TICK_SECONDS` of the runtime stopping (or being
started again with another container).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog

from clinvault.workflows import runtime

log = structlog.get_logger(__name__)

TICK_SECONDS = 0.5
_tasks: set[asyncio.Task[None]] = set()


def every(name: str, interval_seconds: float, job: Callable[[], Awaitable[object]]) -> None:
    """Run `job` now and then every `interval_seconds` while this runtime runs."""
    owner = runtime.container()
    task = asyncio.get_running_loop().create_task(
        _run(name, interval_seconds, job, owner), name=f"clinvault-{name}"
    )
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


def _current(owner: object) -> bool:
    try:
        return runtime.is_running() and runtime.container() is owner
    except RuntimeError:
        return False


async def _run(
    name: str, interval: float, job: Callable[[], Awaitable[object]], owner: object
) -> None:
    while _current(owner):
        try:
            await job()
        except Exception:
            log.exception("workflows.periodic.failed", job=name)
        waited = 0.0
        while waited < interval and _current(owner):
            await asyncio.sleep(min(TICK_SECONDS, interval - waited))
            waited += TICK_SECONDS
