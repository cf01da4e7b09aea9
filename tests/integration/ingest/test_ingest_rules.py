"""Bad input, signed URL misuse, tenancy, dry run, the error report, conflict or amendment."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from tests.factories import create_org, problem, signed_in
from tests.integration.ingest.support import HEADER, importer, ingest, relative, ticket, visits

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role
from clinvault.ingest.service import signer
from clinvault.ingest.signing import UploadGrant

GOOD = ("M-1", "Ada", "Lovelace", "2025-03-26T10:30:00-07:00", "Seen.")


async def test_bad_rows_are_reported_and_valid_rows_still_written(
    client: httpx.AsyncClient, container: Container
) -> None:
    clerk = await importer(client, container, await create_org(container))
    content = (
        HEADER
        + "M-1,Ada,Lovelace,2025-03-26T10:30:00-07:00,Seen.\n"
        + "M-2,Bob,Stone,2025-02-30T10:00:00Z,Impossible date.\n"
        + "M-3,Cy,Moss,2025-03-01T10:00:00,No offset.\n"
        + "M 4,Di,Park,2025-03-01T10:00:00Z,Bad MRN.\n"
        + "M-5,Ed,Hall,2025-03-01T10:00:00Z,\n"
        + 'M-6,Fay,Ray,2025-03-01T10:00:00Z,=HYPERLINK("x")\n'
        + "M-1,Ann,Other,2025-04-01T10:00:00Z,Same MRN with another name.\n"
        + f"M-7,Gus,Lee,2025-03-01T10:00:00Z,{'x' * 300_000}\n"
        + "M-8,Hal,Kim,2025-03-01T10:00:00Z\n"
        + "M-1,Ada,Lovelace,2025-03-26T10:30:00-07:00,Seen.\n"
        + "M-1,Ada,Lovelace,2025-03-26T10:30:00-07:00,Changed notes.\n"
    )
    job = await ingest(client, clerk, content)
    assert job["state"] == "completed_with_errors", job
    assert (job["rows_read"], job["rows_inserted"], job["rows_present"]) == (11, 2, 1)
    assert job["rows_rejected"] == 8
    report = await client.get(f"/api/ingest/jobs/{job['id']}/error-report", headers=clerk.headers)
    assert report.status_code == 200
    records = list(csv.reader(io.StringIO(report.text)))
    assert records[0] == ["line", "column", "error_code", "message"]
    codes = {int(r[0]): r[2] for r in records[1:]}
    assert codes == {
        3: "date_time_invalid",
        4: "date_time_without_offset",
        5: "mrn_invalid",
        6: "notes_missing",
        8: "mrn_other_patient",
        9: "field_too_long",
        10: "too_few_fields",
        12: "conflict",
    }
    line3 = next(r for r in records if r[0] == "3")
    assert line3[4:] == ["M-2", "Bob", "Stone", "2025-02-30T10:00:00Z", "Impossible date."]
    # The formula cell was written as a record, not rejected; escaping is on the report side.
    assert all(not cell.startswith("=") for record in records for cell in record)


async def test_formula_cells_in_the_report_are_escaped(
    client: httpx.AsyncClient, container: Container
) -> None:
    clerk = await importer(client, container, await create_org(container))
    job = await ingest(client, clerk, HEADER + "=1+1,@x,-y,2025-03-01T10:00:00Z,+z\n")
    report = await client.get(f"/api/ingest/jobs/{job['id']}/error-report", headers=clerk.headers)
    record = list(csv.reader(io.StringIO(report.text)))[1]
    assert record[4:] == ["'=1+1", "'@x", "'-y", "2025-03-01T10:00:00Z", "'+z"]


async def test_changed_rows_become_amendments_when_the_organization_says_so(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    clerk = await importer(client, container, org)
    _, admin = await signed_in(client, container, org, roles=[Role.ORG_ADMIN])
    await ingest(client, clerk, visits(GOOD))
    changed = (*GOOD[:4], "Seen; corrected.")
    refused = await ingest(client, clerk, visits(changed))
    assert (refused["rows_rejected"], refused["rows_amended"]) == (1, 0)
    put = await client.put("/api/ingest/settings", json={"on_changed_row": "amend"}, headers=admin)
    assert put.status_code == 200, put.text
    amended = await ingest(client, clerk, visits(changed))
    assert (amended["rows_rejected"], amended["rows_amended"]) == (0, 1)
    listed = await client.get("/api/records/", params={"mrn": "M-1"}, headers=admin)
    [latest] = listed.json()["items"]
    assert latest["content"] == "Seen; corrected."
    assert latest["version"] == 2


async def test_dry_run_writes_nothing(client: httpx.AsyncClient, container: Container) -> None:
    org = await create_org(container)
    clerk = await importer(client, container, org)
    job = await ingest(client, clerk, visits(GOOD, ("M-2", "B", "C", "bad", "n")), dry_run=True)
    assert job["state"] == "completed_with_errors"
    assert job["dry_run"]
    assert (job["rows_valid"], job["rows_rejected"], job["rows_inserted"]) == (1, 1, 1)
    _, doctor = await signed_in(client, container, org, roles=[Role.DOCTOR])
    listed = await client.get("/api/records/", headers=doctor)
    assert listed.json()["total"] == 0


async def test_whole_file_problems_are_problem_json(
    client: httpx.AsyncClient, container: Container
) -> None:
    clerk = await importer(client, container, await create_org(container))
    for content, code in [
        (b"", "ingest_file_rejected"),
        (b"%PDF-1.7 binary", "ingest_file_rejected"),
        ("medical_record_number,first_name\nA,Jos\xe9\n".encode("cp1252"), "ingest_file_rejected"),
        (b"medical_record_number,first_name\nA,B\n", "ingest_file_rejected"),
    ]:
        granted = await ticket(client, clerk)
        response = await client.put(relative(granted["url"]), content=content)
        problem(response, 422, code)


async def test_a_file_over_the_limit_is_refused_while_streaming(
    client: httpx.AsyncClient, container: Container
) -> None:
    clerk = await importer(client, container, await create_org(container))
    # The limit is the upload's own; a smaller one cannot be signed by the client.
    container.settings.ingest.max_file_bytes, saved = 2048, container.settings.ingest.max_file_bytes
    try:
        small = await ticket(client, clerk)
    finally:
        container.settings.ingest.max_file_bytes = saved
    response = await client.put(relative(small["url"]), content=visits(GOOD) + "x" * 4096)
    problem(response, 413, "ingest_file_too_large")
    again = await client.put(relative(small["url"]), content=visits(GOOD))
    assert again.status_code == 202, "a refused file leaves the URL usable"


async def test_signed_url_misuse_is_refused(
    client: httpx.AsyncClient, container: Container
) -> None:
    clerk = await importer(client, container, await create_org(container))
    granted = await ticket(client, clerk)
    url = relative(granted["url"])
    first = await client.put(url, content=visits(GOOD))
    assert first.status_code == 202
    problem(await client.put(url, content=visits(GOOD)), 409, "ingest_url_used")

    other = await ticket(client, clerk)
    altered = relative(other["url"]).replace("signature=", "signature=0")
    problem(await client.put(altered, content=visits(GOOD)), 403, "ingest_url_invalid")

    foreign = await importer(client, container, await create_org(container))
    theirs = await ticket(client, foreign)
    moved = relative(theirs["url"]).replace(str(foreign.org.id), str(clerk.org.id))
    problem(await client.put(moved, content=visits(GOOD)), 403, "ingest_url_invalid")

    expired_at = datetime.now(UTC) - timedelta(seconds=1)
    grant = UploadGrant(
        uuid.UUID(other["upload_id"]), clerk.org.id, "", expired_at, other["max_bytes"]
    )
    expired = relative(signer(container).url(grant))
    problem(await client.put(expired, content=visits(GOOD)), 410, "ingest_url_expired")


async def test_another_organizations_uploads_and_jobs_are_404(
    client: httpx.AsyncClient, container: Container
) -> None:
    clerk = await importer(client, container, await create_org(container))
    job = await ingest(client, clerk, visits(("M-9", "A", "B", "2025-01-01T00:00:00Z", "=x")))
    stranger = await importer(client, container, await create_org(container), Role.ORG_ADMIN)
    base = f"/api/ingest/jobs/{job['id']}"
    for method, url, code in [
        ("GET", base, "ingest_job_not_found"),
        ("POST", f"{base}/cancel", "ingest_job_not_found"),
        ("GET", f"{base}/error-report", "ingest_job_not_found"),
        ("POST", f"/api/ingest/uploads/{job['upload_id']}/complete", "ingest_upload_not_found"),
    ]:
        response = await client.request(method, url, headers=stranger.headers)
        problem(response, 404, code)
    listed = await client.get("/api/ingest/jobs", headers=stranger.headers)
    assert listed.json()["total"] == 0
    mine = await client.post(
        f"/api/ingest/uploads/{job['upload_id']}/complete", headers=clerk.headers
    )
    assert mine.status_code == 200
    assert mine.json()["id"] == job["id"]
