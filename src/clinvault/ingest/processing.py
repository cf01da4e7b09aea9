"""The import job itself: stream the file, validate rows, write them in checkpointed batches.

`run_job` is resumable: each batch commits its records, its rejected rows,
the job's counters and `checkpoint_row` (the last line it covered) in one
transaction, so a job killed at any point continues after its last committed
batch and writes nothing twice. `finish_job` writes the error report and moves
the file to its final stage. Both are called by the durable workflow
(workflows.py), which `clinvault ingest` starts too; with workflows disabled
the command calls them in its own process.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncGenerator, Callable, Generator
from contextlib import suppress
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import structlog

from clinvault.bootstrap import Container
from clinvault.crypto.errors import IntegrityError
from clinvault.crypto.ports import WrappedKey
from clinvault.ingest import storage as keys
from clinvault.ingest.direct import adopt
from clinvault.ingest.lines import ChunkLines
from clinvault.ingest.parser import FileProblem, RowError, RowReader, ValidRow
from clinvault.ingest.report import write_report
from clinvault.ingest.repository import IngestRepository
from clinvault.ingest.schemas import FINISHED_STATES
from clinvault.models.ingest import IngestJob
from clinvault.records.imports.cache import ImportCache
from clinvault.records.imports.service import BatchOutcome, Provenance, RecordImportService, Visit
from clinvault.timeutil import utcnow

log = structlog.get_logger(__name__)

DAMAGED = (
    "The stored file failed its integrity check (it was altered or truncated in storage); "
    "the rows read before that point stay. Upload the file again."
)

STATISTICS_FIRST = 1000

Progress = Callable[[int, int], None]
"""Called after each batch with (bytes of the file read, file size)."""


@dataclass
class _Batch:
    valid: list[ValidRow]
    errors: list[RowError]
    last_line: int
    offset: int


async def run_job(container: Container, job_id: uuid.UUID, progress: Progress | None = None) -> str:
    """Process the job's rows from its checkpoint on; returns the state it left the job in."""
    if (stopped := await adopt(container, job_id)) is not None:
        return stopped  # a file PUT straight to S3 that is not the declared one
    async with container.db.unit_of_work() as session:
        repository = IngestRepository(session)
        job = await repository.job_global(job_id)
        if job is None or job.state in FINISHED_STATES:
            return "missing" if job is None else job.state
        stored = await repository.object(_object_id(job), tenant=job.organization_id)
        assert stored is not None
        if job.state == "uploaded":
            target = keys.staged(stored.storage_key, "processing")
            await keys.copy_object(container.storage, stored.storage_key, target)
            source, stored.storage_key = stored.storage_key, target
            job.state = "validating" if job.dry_run else "processing"
            job.started_at = utcnow()
            await session.flush()
        else:
            source = None
        settings = await repository.settings(tenant=job.organization_id)
        facts = (job.organization_id, job.filename, job.timezone, job.checkpoint_row, job.dry_run)
        object_key, wrapped, sha256 = stored.storage_key, stored.wrapped_key, stored.sha256
        version, size = stored.key_version, stored.plaintext_size
    if source is not None:
        await container.storage.delete(source)
    _, filename, zone, checkpoint, dry_run = facts
    on_changed = (
        "amend" if settings is not None and settings.on_changed_row == "amend" else "reject"
    )
    max_invalid = settings.max_invalid_percent if settings is not None else 50
    policy = container.settings.ingest
    provenance = Provenance(job_id=job_id, source_name=filename, processed_at=utcnow())
    cache = ImportCache(container.blind_index)  # digests computed once per job, not per row

    chunks = container.objects.get(object_key, WrappedKey(version, wrapped), sha256)
    feed = _Feed(chunks, asyncio.get_running_loop())
    lines = ChunkLines(feed)
    batches: Generator[_Batch, None, None] | None = None
    parsing: asyncio.Future[_Batch | None] | None = None
    try:
        reader = await asyncio.to_thread(
            RowReader,
            lines,
            timezone=ZoneInfo(zone) if zone else None,
            max_field_chars=policy.max_field_chars,
            skip_through=checkpoint,
        )
        await _store_header(container, job_id, reader.header.unknown)
        batches = _batches(reader, lines, policy.batch_rows, checkpoint)
        parsing = _parse_next(batches)
        while (batch := await parsing) is not None:
            parsing = _parse_next(batches)  # parsed in its thread while this one is written
            state = await _write(
                container, job_id, batch, provenance, on_changed, max_invalid, dry_run, cache
            )
            if progress is not None:
                progress(min(batch.offset, size), size)
            if state is not None:
                return state
    except FileProblem as problem:
        return await _fail(container, job_id, problem.message)
    except IntegrityError:
        log.error("ingest.job.object_damaged", job_id=str(job_id))
        return await _fail(container, job_id, DAMAGED)
    finally:
        # A batch may still be being parsed (the job stopped or was cancelled): the
        # stopped feed ends it within the lines already read; then close the reading.
        feed.stop()
        if parsing is not None:
            await asyncio.wait([parsing])
            if not parsing.cancelled():
                parsing.exception()  # retrieved: a discarded batch's error is not news
        if batches is not None:
            with suppress(ValueError):
                batches.close()
        with suppress(RuntimeError):
            await chunks.aclose()
    return "processed"


def _parse_next(batches: Generator[_Batch, None, None]) -> asyncio.Future[_Batch | None]:
    return asyncio.ensure_future(asyncio.to_thread(next, batches, None))


class _Feed:
    """The decrypted object's next chunk, for the parser running in a worker thread.

    The parser (csv, synchronous) runs in a thread so that the file is read as it
    is parsed: each call hands the event loop the read of one chunk and waits for
    it, so no more than a chunk or two of the file is held at a time.
    """

    def __init__(
        self, chunks: AsyncGenerator[bytes, None], loop: asyncio.AbstractEventLoop
    ) -> None:
        self._chunks = chunks
        self._loop = loop
        self._stopped = False

    def __call__(self) -> bytes | None:
        if self._stopped:
            return None
        return asyncio.run_coroutine_threadsafe(self._next(), self._loop).result()

    def stop(self) -> None:
        self._stopped = True

    async def _next(self) -> bytes | None:
        if self._stopped:
            return None
        try:
            return await anext(self._chunks)
        except StopAsyncIteration:
            return None


def _object_id(job: IngestJob) -> uuid.UUID:
    assert job.object_id is not None
    return job.object_id


def _batches(
    reader: RowReader, lines: ChunkLines, size: int, checkpoint: int
) -> Generator[_Batch, None, None]:
    batch = _Batch([], [], 0, 0)
    for row in reader:
        if row.line <= checkpoint:
            continue
        if isinstance(row, ValidRow):
            batch.valid.append(row)
        else:
            batch.errors.append(row)
        batch.last_line = row.line
        if len(batch.valid) + len(batch.errors) >= size:
            batch.offset = lines.bytes_read
            yield batch
            batch = _Batch([], [], 0, 0)
    if batch.valid or batch.errors:
        batch.offset = lines.bytes_read
        yield batch


async def _store_header(container: Container, job_id: uuid.UUID, unknown: tuple[str, ...]) -> None:
    if not unknown:
        return
    async with container.db.unit_of_work() as session:
        job = await IngestRepository(session).job_global(job_id)
        assert job is not None
        job.unknown_columns = json.dumps(list(unknown))[:1000]


async def _write(
    container: Container,
    job_id: uuid.UUID,
    batch: _Batch,
    provenance: Provenance,
    on_changed: str,
    max_invalid: int,
    dry_run: bool,
    cache: ImportCache,
) -> str | None:
    """Commit one batch with its checkpoint; the final state when the job must stop."""
    async with container.db.unit_of_work() as session:
        repository = IngestRepository(session)
        job = await repository.job_global(job_id)
        assert job is not None
        if job.cancel_requested:
            _cancel(job)
            return "cancelled"
        outcome = BatchOutcome()
        if batch.valid:
            outcome = await RecordImportService(session, container, cache).write_batch(
                [_visit(row) for row in batch.valid],
                organization_id=job.organization_id,
                provenance=provenance,
                on_changed="amend" if on_changed == "amend" else "reject",
                write=not dry_run,
            )
        cells = {row.line: row for row in batch.valid}
        errors = [
            _error_row(job, e.line, e.column, e.code, e.message, e.cells) for e in batch.errors
        ]
        errors += [
            _error_row(job, r.line, r.column, r.code, r.message, _cells_of(cells[r.line]))
            for r in outcome.rejected
        ]
        await repository.add_errors(errors)
        job.rows_read += len(batch.valid) + len(batch.errors)
        job.rows_valid += len(batch.valid) - len(outcome.rejected)
        job.rows_inserted += outcome.inserted
        job.rows_present += outcome.present
        job.rows_amended += outcome.amended
        job.rows_rejected += len(errors)
        job.patients_created += outcome.patients_created
        written_before = job.rows_inserted - outcome.inserted
        job.checkpoint_row = batch.last_line
        job.bytes_read = max(job.bytes_read, batch.offset)
        if _doubled(written_before, job.rows_inserted):
            await RecordImportService(session, container).refresh_statistics()
        if (
            job.rows_read >= container.settings.ingest.min_rows_before_giving_up
            and job.rows_rejected * 100 > job.rows_read * max_invalid
        ):
            job.state = "failed"
            job.finished_at = utcnow()
            job.message = (
                f"Stopped at line {batch.last_line}: {job.rows_rejected} of {job.rows_read} rows "
                f"are invalid (more than {max_invalid}%). Fix the file using the error report "
                "and import it again; rows already written stay and are skipped next time."
            )
            return "failed"
    return None


def _doubled(before: int, after: int) -> bool:
    """True when the rows written crossed 1,000 x 2^k: statistics refreshed log(n) times."""
    threshold = STATISTICS_FIRST
    while threshold <= after:
        if before < threshold:
            return True
        threshold *= 2
    return False


def _cancel(job: IngestJob) -> None:
    job.state = "cancelled"
    job.finished_at = utcnow()
    job.message = (
        f"Cancelled after line {job.checkpoint_row}: the {job.rows_inserted} records "
        "written before stay."
    )


async def cancel_unfinished(container: Container, job_id: uuid.UUID) -> None:
    """Mark a job whose in-process runner was interrupted as cancelled; its batches stay."""
    async with container.db.unit_of_work() as session:
        job = await IngestRepository(session).job_global(job_id)
        if job is not None and job.state not in FINISHED_STATES:
            _cancel(job)


def _visit(row: ValidRow) -> Visit:
    return Visit(row.line, row.mrn, row.first_name, row.last_name, row.recorded_at, row.notes)


def _cells_of(row: ValidRow) -> tuple[str, ...]:
    return (row.mrn, row.first_name, row.last_name, row.recorded_at.isoformat(), row.notes)


def _error_row(
    job: IngestJob,
    line: int,
    column: str | None,
    code: str,
    message: str,
    cells: tuple[str, ...],
) -> dict[str, Any]:
    return {
        "organization_id": job.organization_id,
        "job_id": job.id,
        "line": line,
        "column": column,
        "code": code,
        "message": message[:500],
        "cells": json.dumps(list(cells)),
    }


async def _fail(container: Container, job_id: uuid.UUID, message: str) -> str:
    async with container.db.unit_of_work() as session:
        job = await IngestRepository(session).job_global(job_id)
        assert job is not None
        job.state = "failed"
        job.finished_at = utcnow()
        job.message = message[:1000]
    return "failed"


async def finish_job(container: Container, job_id: uuid.UUID) -> str:
    """Write the error report, move the file to completed/ or failed/, set the final state."""
    async with container.db.unit_of_work() as session:
        repository = IngestRepository(session)
        job = await repository.job_global(job_id)
        if job is None:
            return "missing"
        if job.state in ("processing", "validating"):
            job.state = "completed_with_errors" if job.rows_rejected else "completed"
            job.finished_at = utcnow()
        if job.rows_rejected and job.report_object_id is None:
            job.report_object_id = await write_report(container, session, job)
        state = job.state
        if job.object_id is None:  # a file PUT straight to S3, refused before re-encryption
            source = target = ""
        else:
            stored = await repository.object(job.object_id, tenant=job.organization_id)
            assert stored is not None
            stage = "failed" if job.state == "failed" else "completed"
            source = stored.storage_key
            target = keys.staged(source, stage)
            await keys.copy_object(container.storage, source, target)
            stored.storage_key = target
    if source != target:
        await container.storage.delete(source)
    log.info("ingest.job.finished", job_id=str(job_id), state=state)
    return state
