"""The error report: every rejected row as CSV, safe to open in a spreadsheet, stored encrypted.

Columns: line, column, error_code, message, then the row's original cells in
input order. A value that a spreadsheet would run as a formula (starting with
=, +, -, @, a tab or a carriage return) is prefixed with a single quote.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator, Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.bootstrap import Container
from clinvault.ingest import storage as keys
from clinvault.ingest.repository import IngestRepository
from clinvault.inputs import parse_json
from clinvault.models.ingest import IngestJob
from clinvault.models.objects import EncryptedObject

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
HEADER = ("line", "column", "error_code", "message")
CONTENT_TYPE = "text/csv"
MAX_CELLS_JSON = 1024 * 1024


def escape_cell(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_STARTS) else value


Record = tuple[int, str | None, str, str, list[str]]


def _csv_line(values: Iterable[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(list(values))
    return buffer.getvalue()


def header_line() -> str:
    return _csv_line(HEADER)


def record_line(record: Record) -> str:
    line, column, code, message, cells = record
    return _csv_line(
        [str(line), column or "", code, escape_cell(message), *(escape_cell(c) for c in cells)]
    )


def report_text(records: Iterable[Record]) -> str:
    """The whole report for a few records (tests, small jobs)."""
    return header_line() + "".join(record_line(record) for record in records)


async def write_report(container: Container, session: AsyncSession, job: IngestJob) -> uuid.UUID:
    repository = IngestRepository(session)

    async def rows() -> AsyncIterator[bytes]:
        pending = [header_line()]
        async for error in repository.errors(job.id, tenant=job.organization_id):
            cells = parse_json(error.cells, max_depth=4, max_bytes=MAX_CELLS_JSON, source="cells")
            pending.append(
                record_line((error.line, error.column, error.code, error.message, cells))
            )
            if len(pending) >= 500:
                yield "".join(pending).encode()
                pending = []
        if pending:
            yield "".join(pending).encode()

    key = keys.report_key(job.organization_id, job.id)
    stored = await container.objects.put(key, rows())
    row = EncryptedObject(
        organization_id=job.organization_id,
        storage_key=key,
        wrapped_key=stored.wrapped_key,
        key_version=stored.key_version,
        plaintext_size=stored.plaintext_size,
        sha256=stored.sha256,
        content_type=CONTENT_TYPE,
    )
    await repository.add(row)
    return row.id
