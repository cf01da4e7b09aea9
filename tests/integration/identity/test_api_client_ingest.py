"""An API client with the ingest scope imports a CSV file of its own organization, and
reaches nothing else."""

from __future__ import annotations

import httpx
from tests.factories import create_org, problem
from tests.integration.identity.api_clients_support import bearer, new_client
from tests.integration.ingest.support import Importer, importer, ingest, relative, ticket, visits

from clinvault.bootstrap import Container

ROWS = (
    ("MRN-7", "Grace", "Hopper", "2025-03-26T10:30:00-07:00", "Annual check-up."),
    ("MRN-8", "Edsger", "Dijkstra", "2025-02-01T08:15:00Z", "Follow-up."),
)
BAD = ("MRN-9", "Ada", "Lovelace", "2025-02-30T10:00:00Z", "An impossible date.")


async def test_client_uploads_through_the_embedded_put_and_reads_its_job(
    client: httpx.AsyncClient, container: Container
) -> None:
    made = await new_client(client, container, await create_org(container))
    caller = Importer(made.org, await bearer(client, made))
    job = await ingest(client, caller, visits(*ROWS, BAD))
    assert job["state"] == "completed_with_errors", job
    assert (job["rows_read"], job["rows_inserted"], job["rows_rejected"]) == (3, 2, 1)
    assert job["started_by"] is None
    assert job["started_by_client"] == made.id
    listed = await client.get("/api/ingest/jobs", headers=caller.headers)
    assert [item["id"] for item in listed.json()["items"]] == [job["id"]]
    report = await client.get(f"/api/ingest/jobs/{job['id']}/error-report", headers=caller.headers)
    assert report.status_code == 200, report.text
    assert "MRN-9" in report.text
    completed = await client.post(
        f"/api/ingest/uploads/{job['upload_id']}/complete", headers=caller.headers
    )
    assert completed.status_code == 200, completed.text
    assert completed.json()["id"] == job["id"]


async def test_client_reads_no_patient_and_no_settings(
    client: httpx.AsyncClient, container: Container
) -> None:
    made = await new_client(client, container, await create_org(container))
    headers = await bearer(client, made)
    problem(await client.get("/api/patients/", headers=headers), 403, "api_client_scope_denied")
    problem(await client.get("/api/records/", headers=headers), 403, "api_client_scope_denied")
    problem(
        await client.get("/api/ingest/settings", headers=headers), 403, "api_client_scope_denied"
    )
    problem(await client.get("/api/clients", headers=headers), 403, "api_client_scope_denied")
    problem(
        await client.post(
            "/api/clients", json={"name": "more", "scopes": ["ingest"]}, headers=headers
        ),
        403,
        "api_client_scope_denied",
    )


async def test_another_organizations_job_and_upload_are_not_found(
    client: httpx.AsyncClient, container: Container
) -> None:
    made = await new_client(client, container, await create_org(container))
    headers = await bearer(client, made)
    clerk = await importer(client, container, await create_org(container))
    theirs = await ingest(client, clerk, visits(*ROWS))
    pending = await ticket(client, clerk)
    problem(
        await client.get(f"/api/ingest/jobs/{theirs['id']}", headers=headers),
        404,
        "ingest_job_not_found",
    )
    problem(
        await client.post(f"/api/ingest/jobs/{theirs['id']}/cancel", headers=headers),
        404,
        "ingest_job_not_found",
    )
    problem(
        await client.post(f"/api/ingest/uploads/{pending['upload_id']}/complete", headers=headers),
        404,
        "ingest_upload_not_found",
    )
    listed = await client.get("/api/ingest/jobs", headers=headers)
    assert listed.json()["items"] == []
    # The other organization's signed URL stays its own: the client's token changes nothing.
    put = await client.put(
        relative(pending["url"]), content=visits(*ROWS).encode(), headers=headers
    )
    assert put.status_code == 202, put.text
    assert (
        await client.get(f"/api/ingest/jobs/{put.json()['id']}", headers=headers)
    ).status_code == 404
