"""A job as the API, the portal and the CLI show it."""

from __future__ import annotations

from clinvault.ingest.schemas import FINISHED_STATES, JobRead
from clinvault.inputs import parse_json
from clinvault.models.ingest import IngestJob


def job_read(job: IngestJob) -> JobRead:
    progress = 1.0 if job.state in FINISHED_STATES else min(0.99, job.bytes_read / max(job.size, 1))
    return JobRead(
        id=job.id,
        upload_id=job.upload_id,
        state=job.state,
        filename=job.filename,
        sha256=job.sha256,
        size=job.size,
        dry_run=job.dry_run,
        timezone=job.timezone,
        started_by=job.started_by,
        started_by_client=job.started_by_client,
        duplicate_of=job.duplicate_of,
        rows_read=job.rows_read,
        rows_valid=job.rows_valid,
        rows_inserted=job.rows_inserted,
        rows_present=job.rows_present,
        rows_amended=job.rows_amended,
        rows_rejected=job.rows_rejected,
        patients_created=job.patients_created,
        progress=progress,
        unknown_columns=(
            parse_json(job.unknown_columns, max_depth=2, max_bytes=1024 * 1024)
            if job.unknown_columns
            else []
        ),
        message=job.message,
        error_report=job.report_object_id is not None,
        cancel_requested=job.cancel_requested,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )
