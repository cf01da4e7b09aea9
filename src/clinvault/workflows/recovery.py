"""Adopt the pending workflows of executors that no live process holds.

Start-up recovery only covers a process's own executor id. When a process dies
and nothing takes its id again (a replica scaled in, a worker not restarted),
its PENDING workflows would wait forever. Every running process therefore
sweeps, at launch and then periodically: for each other executor id that has
PENDING workflows of this application version, it tries that id's lease; if it
gets it, the owner is dead, and its workflows go back to DBOS's internal queue,
from which any live process dequeues and resumes them (taking them over under
its own id). The lease is held while doing so, so a process starting up under
that id meanwhile cannot recover the same workflows a second time.
"""

from __future__ import annotations

import threading

import structlog
from dbos import DBOS

from clinvault.config import Settings
from clinvault.workflows.executors import try_lease

log = structlog.get_logger(__name__)

SWEEP_INTERVAL_SECONDS = 60.0


def orphaned_executor_ids(own_id: str) -> set[str]:
    pending = DBOS.list_workflows(
        status="PENDING",
        app_version=DBOS.application_version,
        load_input=False,
        load_output=False,
    )
    return {status.executor_id for status in pending if status.executor_id} - {own_id}


def adopt_orphans(settings: Settings, own_id: str) -> int:
    """Re-enqueue the pending workflows of dead executors; return how many."""
    adopted = 0
    for executor_id in sorted(orphaned_executor_ids(own_id)):
        lease = try_lease(settings, executor_id)
        if lease is None:
            continue
        try:
            # The conditional re-enqueue DBOS's own recovery endpoint uses: only rows
            # still PENDING under the dead executor's id are touched.
            handles = DBOS._recover_pending_workflows([executor_id])
        finally:
            lease.release()
        if handles:
            adopted += len(handles)
            log.info("workflows.recovery.adopted", executor_id=executor_id, workflows=len(handles))
    return adopted


class OrphanSweeper:
    """Runs `adopt_orphans` now and every `interval` seconds on its own thread."""

    def __init__(
        self, settings: Settings, own_id: str, interval: float = SWEEP_INTERVAL_SECONDS
    ) -> None:
        self._settings = settings
        self._own_id = own_id
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, name="clinvault-workflow-sweeper", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                adopt_orphans(self._settings, self._own_id)
            except Exception:
                log.exception("workflows.recovery.sweep_failed")
            self._stop.wait(self._interval)
