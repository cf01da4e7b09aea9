"""A job left `uploaded` without a workflow (its process stopped between the upload's
commit and the start) is started by the running processes' sweep, once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
from sqlalchemy import update
from tests.factories import create_org
from tests.integration.ingest.support import importer, visits, wait_job

from clinvault.bootstrap import Container
from clinvault.ingest.service import IngestService
from clinvault.ingest.workflows import start_missing_imports
from clinvault.models.ingest import IngestJob
from clinvault.timeutil import utcnow

ROWS = (("MRN-1", "Ada", "Lovelace", "2025-03-26T10:30:00-07:00", "Seen for cough."),)


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def test_a_job_never_started_is_started_by_the_sweep_once(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    clerk = await importer(client, container, org)
    async with container.db.unit_of_work() as session:
        service = IngestService(session, container)
        ticket = await service.new_upload(org.id, None, "visits.csv", False, None)
        await service.claim(ticket.upload_id, org.id)
        job = await service.receive(
            ticket.upload_id, org.id, _chunks(visits(*ROWS).encode()), start=False
        )

    # Younger than the grace: its own process is about to start it.
    assert await start_missing_imports(container) == 0
    async with container.db.unit_of_work() as session:
        await session.execute(update(IngestJob).values(created_at=utcnow() - timedelta(minutes=2)))
    assert await start_missing_imports(container) == 1
    finished = await wait_job(client, clerk, str(job.id))

    assert (finished["state"], finished["rows_inserted"]) == ("completed", 1)
    assert await start_missing_imports(container) == 0
