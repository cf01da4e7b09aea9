"""`ingest FILE --org SLUG`: a CSV of patient visits imported by the durable job.

The file is stored encrypted under the organization's prefix and imported by the
same job the API starts (validated rows written in checkpointed batches,
idempotently): a DBOS workflow, started by this command under an executor id of
its own and followed with a progress bar on stderr. If the command is killed,
the workflow stays pending and a running `clinvault serve` or `clinvault worker`
adopts it and resumes it from its last committed batch; Ctrl-C instead cancels
the job (the batches it committed stay). With workflows disabled
(CLINVAULT_WORKFLOWS_ENABLED=false) the job runs in this process only. Then the
summary on stdout:

    job ID: STATE
    rows read N: I inserted, P already present, A amended, R rejected; C patients created
    line L  COLUMN  CODE  MESSAGE            (the first rejected rows, without their cells)

Exit code 0 when every row was accepted, 1 when a row was rejected or the job
failed (the error report with the rejected cells is at
GET /api/ingest/jobs/{id}/error-report), 2 for a wrong command line.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator, Callable
from pathlib import Path
from typing import Annotated, BinaryIO

import typer
from dbos import DBOS, WorkflowHandleAsync
from pydantic import ValidationError
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)

from clinvault.bootstrap import Container
from clinvault.cli.common import (
    EXIT_FAILED,
    EXIT_USAGE,
    CommandFailed,
    audited,
    fail,
    run_with_container,
)
from clinvault.cli.lookups import organization_by_slug
from clinvault.ids import uuid7
from clinvault.ingest.processing import cancel_unfinished, finish_job, run_job
from clinvault.ingest.schemas import JobRead, UploadCreate
from clinvault.ingest.service import IngestService, RejectedLine
from clinvault.ingest.workflows import import_workflow_id, start_import
from clinvault.workflows import runtime

READ_BYTES = 1024 * 1024
SHOWN_ERRORS = 20
PROGRESS_SECONDS = 0.5
IMPORTING_KIND = "provider"


def ingest(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            readable=True,
            help="The CSV export of patient visits (header row, UTF-8).",
        ),
    ],
    org: Annotated[
        str, typer.Option("--org", help="Slug of the provider organization the rows belong to.")
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate every row and report; write nothing.")
    ] = False,
    timezone: Annotated[
        str | None,
        typer.Option(
            "--timezone",
            help="IANA time zone (such as America/Los_Angeles) for date-times written "
            "without an offset; without it such rows are rejected.",
        ),
    ] = None,
) -> None:
    """Import a CSV of patient visits into an organization, with a progress bar.

    Rows already present are skipped, so running a file again adds nothing twice."""
    try:
        request = UploadCreate(filename=file.name, dry_run=dry_run, timezone=timezone)
    except ValidationError as error:
        problems = "; ".join(
            str(item["msg"]).removeprefix("Value error, ") for item in error.errors()
        )
        fail(f"--timezone or the file name: {problems}", EXIT_USAGE)
    command = "ingest --dry-run" if dry_run else "ingest"

    async def work(container: Container) -> tuple[JobRead, list[RejectedLine]]:
        progress = _progress()
        try:
            async with audited(container, command, "ingest.upload.create") as (session, _):
                organization = await organization_by_slug(session, org)
                if organization is None or organization.kind != IMPORTING_KIND:
                    raise CommandFailed(
                        f"no provider organization with slug {org!r}: "
                        "check it (organizations are created with `clinvault orgs create`)"
                    )
                progress.start()
                sending = progress.add_task("storing", total=file.stat().st_size)
                service = IngestService(session, container)
                ticket = await service.new_upload(
                    organization.id, None, request.filename, request.dry_run, request.timezone
                )
                with file.open("rb") as handle:
                    job = await service.receive(
                        ticket.upload_id,
                        organization.id,
                        _chunks(handle, lambda n: progress.advance(sending, n)),
                        start=False,
                    )
            importing = progress.add_task("importing", total=job.size)
            await _run(
                container, job.id, lambda done, _: progress.update(importing, completed=done)
            )
            progress.update(importing, completed=job.size)
        finally:
            progress.stop()
        async with container.db.unit_of_work() as session:
            return await IngestService(session, container).operator_view(
                job.id, max_errors=SHOWN_ERRORS
            )

    job, rejected = run_with_container(work)
    for line in summary(job, rejected):
        typer.echo(line)
    if job.state != "completed":
        raise typer.Exit(EXIT_FAILED)


async def _run(
    container: Container, job_id: uuid.UUID, progress: Callable[[int, int], None]
) -> None:
    try:
        if container.settings.workflows_enabled:
            await _run_durably(container, job_id, progress)
        else:
            await run_job(container, job_id, progress)
            await finish_job(container, job_id)
    except (asyncio.CancelledError, KeyboardInterrupt):
        await asyncio.shield(cancel_unfinished(container, job_id))
        raise


async def _run_durably(
    container: Container, job_id: uuid.UUID, progress: Callable[[int, int], None]
) -> None:
    """Start the job's workflow under this command's own executor id and follow it.

    Killed, the command leaves the workflow pending under an id no process holds:
    `serve` and `worker` adopt such work (clinvault.workflows.recovery).
    """
    runtime.start(container, executor_id=f"cli-ingest-{uuid7().hex[-12:]}")
    try:
        await start_import(job_id)
        handle: WorkflowHandleAsync[str] = await DBOS.retrieve_workflow_async(
            import_workflow_id(job_id)
        )
        result = asyncio.ensure_future(handle.get_result())
        while not result.done():
            await asyncio.wait([result], timeout=PROGRESS_SECONDS)
            async with container.db.sessions() as session:
                job, _ = await IngestService(session, container).operator_view(job_id, max_errors=0)
            progress(int(job.progress * job.size), job.size)
        result.result()
    finally:
        await asyncio.to_thread(runtime.stop)


async def _chunks(handle: BinaryIO, advance: Callable[[int], None]) -> AsyncGenerator[bytes, None]:
    while chunk := await asyncio.to_thread(handle.read, READ_BYTES):
        advance(len(chunk))
        yield chunk


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description:<10}"),
        BarColumn(),
        TaskProgressColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )


def summary(job: JobRead, rejected: list[RejectedLine]) -> list[str]:
    """What the command prints: the job, its counts, its first rejected rows."""
    lines = [
        f"job {job.id}: {job.state}" + (" (dry run: nothing was written)" if job.dry_run else "")
    ]
    lines.append(
        f"rows read {job.rows_read}: {job.rows_inserted} inserted, {job.rows_present} already "
        f"present, {job.rows_amended} amended, {job.rows_rejected} rejected; "
        f"{job.patients_created} patients created"
    )
    if job.message:
        lines.append(job.message)
    for error in rejected:
        lines.append(f"line {error.line}  {error.column or '-'}  {error.code}  {error.message}")
    if job.rows_rejected > len(rejected):
        lines.append(f"... and {job.rows_rejected - len(rejected)} more rejected rows")
    if job.rows_rejected:
        lines.append(
            "error report (with the rejected rows' cells): "
            f"GET /api/ingest/jobs/{job.id}/error-report"
        )
    return lines
