"""Two jobs over overlapping files, running at the same time: no record or patient written
twice, and each job's counts add up (inserted + already present = rows)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from tests.factories import create_org
from tests.integration.ingest.support import HEADER, importer, relative, ticket, wait_job

from clinvault.bootstrap import Container
from clinvault.ingest import processing
from clinvault.models.records import MedicalRecord, Patient
from clinvault.records.imports.service import RecordImportService

BATCH_ROWS = 40
MRNS = 37
START = datetime(2024, 6, 1, tzinfo=UTC)
MEETING_SECONDS = 30.0


def rows(first: int, last: int) -> str:
    lines = [HEADER]
    for n in range(first, last + 1):
        when = (START + timedelta(minutes=11 * n)).isoformat()
        lines.append(f"C-{n % MRNS:03d},Pat{n % MRNS},Overlap,{when},Visit {n}.\n")
    return "".join(lines)


async def test_overlapping_jobs_at_once_write_each_row_once(
    client: httpx.AsyncClient, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = await create_org(container)
    clerk = await importer(client, container, org)
    monkeypatch.setattr(container.settings.ingest, "batch_rows", BATCH_ROWS)
    # Statistics are refreshed (ANALYZE on PostgreSQL) while the other job writes.
    monkeypatch.setattr(processing, "STATISTICS_FIRST", 1)

    # Both jobs' first batches meet here, so the two jobs are writing at the same time.
    real = RecordImportService.write_batch
    met = asyncio.Barrier(2)
    started: set[uuid.UUID] = set()

    async def together(self: RecordImportService, *args: Any, **kwargs: Any) -> Any:
        job_id = kwargs["provenance"].job_id
        if job_id not in started:
            started.add(job_id)
            await asyncio.wait_for(met.wait(), MEETING_SECONDS)
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(RecordImportService, "write_batch", together)

    files = {"first.csv": rows(1, 300), "second.csv": rows(151, 450)}
    tickets = {name: await ticket(client, clerk, filename=name) for name in files}
    sent = await asyncio.gather(
        *(
            client.put(relative(tickets[name]["url"]), content=content.encode())
            for name, content in files.items()
        )
    )
    assert [response.status_code for response in sent] == [202, 202]
    jobs = await asyncio.gather(*(wait_job(client, clerk, r.json()["id"]) for r in sent))

    assert len(started) == 2
    for job in jobs:
        assert job["state"] == "completed", job
        assert job["rows_rejected"] == 0
        assert job["rows_inserted"] + job["rows_present"] == job["rows_read"] == 300
    assert sum(job["rows_inserted"] for job in jobs) == 450
    assert sum(job["rows_present"] for job in jobs) == 150
    assert sum(job["patients_created"] for job in jobs) == MRNS

    async with container.db.sessions() as session:
        records = (
            await session.execute(
                sa.select(MedicalRecord.import_key, MedicalRecord.import_row).where(
                    MedicalRecord.organization_id == org.id
                )
            )
        ).all()
        patients = await session.scalar(
            sa.select(sa.func.count()).where(Patient.organization_id == org.id)
        )
    assert len(records) == 450
    assert len({key for key, _ in records}) == 450
    assert patients == MRNS
