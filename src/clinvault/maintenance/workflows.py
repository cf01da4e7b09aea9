"""The daily reconcile of stored objects, as a DBOS scheduled workflow.

Every worker installs the same schedule; DBOS runs each scheduled instant
once (the workflow id is derived from it), so one replica does the work.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dbos import DBOS

from clinvault.credentials.held.service import purge_expired_held_uploads
from clinvault.maintenance.service import reconcile_objects
from clinvault.workflows import runtime

RECONCILE_SCHEDULE = "objects-reconcile-daily"
RETRY: dict[str, Any] = {
    "retries_allowed": True,
    "max_attempts": 4,
    "interval_seconds": 30,
    "backoff_rate": 2,
}


@DBOS.step(**RETRY)
async def reconcile_objects_step() -> dict[str, int]:
    # Safe to repeat: a second pass finds nothing left to delete.
    report = await reconcile_objects(runtime.container())
    return report.counts()


@DBOS.step(**RETRY)
async def purge_held_uploads_step() -> int:
    # Held files of partly refused uploads that nobody came back for (safe to repeat).
    return await purge_expired_held_uploads(runtime.container())


@DBOS.workflow()
async def objects_reconcile_workflow(_scheduled_at: datetime, _context: Any) -> None:
    # The step's recorded output keeps the counts of each run.
    await reconcile_objects_step()
    await purge_held_uploads_step()


def on_launch() -> None:
    """Install the daily reconcile schedule."""
    runtime.apply_schedule(
        RECONCILE_SCHEDULE,
        objects_reconcile_workflow,
        runtime.container().settings.objects.reconcile_schedule_cron,
    )
