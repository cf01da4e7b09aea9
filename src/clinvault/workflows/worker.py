"""`clinvault worker`: a process that only runs durable workflows.

It launches the workflow runtime against the shared system database and serves
queues, schedules and recovery until SIGTERM or SIGINT; `serve` processes do
the same beside HTTP, so a worker adds capacity without adding web traffic. On
a signal it stops taking work, gives running workflows `grace_seconds` to
finish and leaves the rest PENDING under its executor id, for the next process
that takes that id (or for adoption by the others).
"""

from __future__ import annotations

import asyncio
import signal

import structlog

from clinvault.bootstrap import build_container
from clinvault.config import Settings
from clinvault.workflows import runtime

log = structlog.get_logger(__name__)

DEFAULT_GRACE_SECONDS = 20
_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class WorkflowsDisabled(RuntimeError):
    """CLINVAULT_WORKFLOWS_ENABLED is false: there is nothing for a worker to run."""


def run_worker(
    settings: Settings,
    *,
    executor_id: str | None = None,
    grace_seconds: int = DEFAULT_GRACE_SECONDS,
) -> None:
    """Run workflows until SIGTERM/SIGINT, then shut down cleanly."""
    if not settings.workflows_enabled:
        raise WorkflowsDisabled(
            "workflows are disabled (CLINVAULT_WORKFLOWS_ENABLED=false); enable them to run "
            "a worker"
        )
    asyncio.run(_run(settings, executor_id, grace_seconds))


async def _run(settings: Settings, executor_id: str | None, grace_seconds: int) -> None:
    container = build_container(settings)
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for signum in _SIGNALS:
        loop.add_signal_handler(signum, stopping.set)
    try:
        runtime.start(container, executor_id=executor_id)
        log.info("workflows.worker.ready", executor_id=runtime.executor_id())
        await stopping.wait()
        log.info("workflows.worker.stopping", executor_id=runtime.executor_id())
        await asyncio.to_thread(runtime.stop, grace_seconds=grace_seconds)
    finally:
        runtime.stop()
        for signum in _SIGNALS:
            loop.remove_signal_handler(signum)
        await container.close()
    log.info("workflows.worker.stopped")
