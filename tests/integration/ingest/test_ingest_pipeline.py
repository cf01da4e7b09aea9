"""The pipeline end to end: signed upload, durable job, idempotent rows, reading back."""

from __future__ import annotations

import httpx
from tests.factories import create_org, signed_in
from tests.integration.ingest.support import importer, ingest, visits

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role

ROWS = (
    ("MRN-1", "Ada", "Lovelace", "2025-03-26T10:30:00-07:00", "Seen for cough, lungs clear."),
    ("MRN-1", "Ada", "Lovelace", "2025-01-02T09:00:00+00:00", 'First visit; "quoted", and\nmulti'),
    ("MRN-2", "Alan", "Turing", "2025-02-01T08:15:00Z", "Follow-up."),
)


async def test_file_is_imported_with_provenance_and_read_back_in_order(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    clerk = await importer(client, container, org)
    job = await ingest(client, clerk, visits(*ROWS))
    assert job["state"] == "completed", job
    assert (job["rows_read"], job["rows_inserted"], job["rows_rejected"]) == (3, 3, 0)
    assert job["patients_created"] == 2

    _, doctor = await signed_in(client, container, org, roles=[Role.DOCTOR])
    page = await client.get("/api/records/", params={"mrn": "MRN-1"}, headers=doctor)
    assert page.status_code == 200, page.text
    items = page.json()["items"]
    assert [item["recorded_at"][:10] for item in items] == ["2025-01-02", "2025-03-26"]
    assert items[0]["content"] == 'First visit; "quoted", and\nmulti'
    provenance = items[1]["provenance"]
    assert provenance["source_file"] == "visits.csv"
    assert provenance["job_id"] == job["id"]
    assert provenance["row_number"] == 2
    opened = await client.get(f"/api/ingest/jobs/{provenance['job_id']}", headers=doctor)
    assert opened.status_code == 200

    again = await ingest(client, clerk, visits(*ROWS))
    assert again["duplicate_of"] == job["id"]
    assert (again["rows_inserted"], again["rows_present"]) == (0, 3)
    total = await client.get("/api/records/", headers=doctor)
    assert total.json()["total"] == 3
