"""The durable import job: one DBOS workflow per job, started after the upload's commit.

Steps: process (rows in batches, each committed with its checkpoint, see
processing.py) then finish (error report, file moved to completed/ or
failed/). The workflow id is derived from the job id, so a second start is a
no-op; a killed process resumes the workflow and `run_job` continues after the
last committed batch.
"""

from __future__ import annotations

import uuid
from typing import Any

import structlog
from dbos import DBOS, SetWorkflowID

from clinvault.ingest.processing import finish_job, run_job
from clinvault.workflows import runtime

log = structlog.get_logger(__name__)

RETRY: dict[str, Any] = {
    "retries_allowed": True,
    "max_attempts": 3,
    "interval_seconds": 1,
    "backoff_rate": 2,
}


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
