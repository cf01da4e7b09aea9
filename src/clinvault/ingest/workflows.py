"""The durable import job: one DBOS workflow per job, started after the upload's commit.

Steps: process (rows in batches, each committed with its checkpoint, see
processing.py) then finish (error report, file moved to completed/ or
failed/). The workflow id is derived from the job id, so a second start is a
no-op; a killed process resumes the workflow and `run_job` continues after the
last committed batch. A process stopped between the upload's commit and the
start (the API's or `clinvault ingest`'s) leaves a job `uploaded` without a
workflow: every running process starts those (`start_missing_imports`).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import structlog
from dbos import DBOS, SetWorkflowID

from clinvault.bootstrap import Container
from clinvault.ingest.processing import finish_job, run_job
from clinvault.ingest.repository import IngestRepository
from clinvault.timeutil import utcnow
from clinvault.workflows import periodic, runtime

log = structlog.get_logger(__name__)

RETRY: dict[str, Any] = {
    "retries_allowed": True,
    "max_attempts": 3,
    "interval_seconds": 1,
    "backoff_rate": 2,
}


START_SWEEP = "ingest-job-starts"
START_SWEEP_SECONDS = 30.0
START_GRACE = timedelta(minutes=1)
STATUS_BATCH = 200


def import_workflow_id(job_id: uuid.UUID) -> str:
    return f"ingest-job-{job_id}"


@DBOS.step(**RETRY)
async def process_step(job_id: str) -> str:
    return await run_job(runtime.container(), uuid.UUID(job_id))


@DBOS.step(**RETRY)
async def finish_step(job_id: str) -> str:
    return await finish_job(runtime.container(), uuid.UUID(job_id))


@DBOS.workflow()
async def ingest_job_workflow(job_id: str) -> str:
    await process_step(job_id)
    return await finish_step(job_id)


async def start_missing_imports(container: Container) -> int:
    """Start the workflow of every job left `uploaded` without one; how many were started.

    Only jobs older than `START_GRACE`: a younger one is about to be started by
    the process that created it (a concurrent start is one workflow anyway).
    """
    async with container.db.sessions() as session:
        owed = await IngestRepository(session).unfinished_jobs_global(
            ("uploaded",), created_before=utcnow() - START_GRACE
        )
    started = 0
    for first in range(0, len(owed), STATUS_BATCH):
        batch = owed[first : first + STATUS_BATCH]
        found = await DBOS.list_workflows_async(
            workflow_ids=[import_workflow_id(job_id) for job_id in batch],
            load_input=False,
            load_output=False,
        )
        existing = {status.workflow_id for status in found}
        for job_id in batch:
            if import_workflow_id(job_id) not in existing:
                await start_import(job_id)
                started += 1
                log.warning("ingest.job.start_recovered", job_id=str(job_id))
    return started


def on_launch() -> None:
    """Start the workflows of jobs left without one, now and periodically."""
    periodic.every(
        START_SWEEP, START_SWEEP_SECONDS, lambda: start_missing_imports(runtime.container())
    )


async def start_import(job_id: uuid.UUID) -> None:
    """Start the job's workflow (after the upload's commit); idempotent by id."""
    if not runtime.is_running():
        log.warning("ingest.job.not_started", job_id=str(job_id))
        return
    try:
        with SetWorkflowID(import_workflow_id(job_id)):
            await DBOS.start_workflow_async(ingest_job_workflow, str(job_id))
    except Exception:
        log.exception("ingest.job.start_failed", job_id=str(job_id))
