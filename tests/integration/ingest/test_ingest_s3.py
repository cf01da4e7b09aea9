"""CSV ingest with S3 storage (moto's S3 API): a presigned PUT straight to the bucket.

moto verifies neither presigned signatures nor `x-amz-checksum-sha256` (it
stores what it is sent; ADR 0018), so the PUTs of other bytes below reach the
bucket here, where real S3 refuses them (SignatureDoesNotMatch for another
length or header, BadDigest for other bytes). What these tests show is
clinvault's own checks behind that: `complete` HEADs the object, and the job
hashes the file while re-encrypting it, before any row is read.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from tests.contracts.conftest import MotoServer, moto_server  # noqa: F401
from tests.factories import create_org, problem, signed_in
from tests.integration.ingest.support import Importer, importer, visits, wait_job

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role
from clinvault.maintenance.service import reconcile_objects
from clinvault.models.ingest import IngestUpload
from clinvault.storage.objects import EncryptedObjectStore
from clinvault.storage.s3 import S3Storage
from clinvault.timeutil import utcnow

ROWS = (
    ("MRN-1", "Ada", "Lovelace", "2025-03-26T10:30:00-07:00", "Seen for cough, lungs clear."),
    ("MRN-1", "Ada", "Lovelace", "2025-01-02T09:00:00+00:00", "First visit."),
    ("MRN-2", "Alan", "Turing", "2025-02-01T08:15:00Z", "Follow-up."),
)
FILE = visits(*ROWS).encode()


class Bucket:
    def __init__(self, moto: MotoServer) -> None:
        self.s3 = moto.client("s3")
        self.name = moto.new_bucket()

    def keys(self) -> list[str]:
        return [
            entry["Key"] for entry in self.s3.list_objects_v2(Bucket=self.name).get("Contents", [])
        ]

    def read(self, key: str) -> bytes:
        body: bytes = self.s3.get_object(Bucket=self.name, Key=key)["Body"].read()
        return body


@pytest.fixture
def bucket(
    container: Container,
    moto_server: MotoServer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> Bucket:
    """The app's storage is this test's bucket (prefix `cv/`), on moto."""
    bucket = Bucket(moto_server)
    objects = EncryptedObjectStore(S3Storage(bucket.s3, bucket.name, "cv"), container.keys)
    monkeypatch.setattr(container, "objects", objects)
    monkeypatch.setattr(container, "storage", objects.storage)
    return bucket


async def declared(
    client: httpx.AsyncClient, who: Importer, content: bytes = FILE
) -> dict[str, Any]:
    answer = await client.post(
        "/api/ingest/uploads",
        json={
            "filename": "visits.csv",
            "size": len(content),
            "sha256": hashlib.sha256(content).hexdigest(),
        },
        headers=who.headers,
    )
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def put(ticket: dict[str, Any], content: bytes, **changed: str) -> httpx.Response:
    """The client's PUT, to moto over HTTP, with the headers the ticket lists."""
    headers = {name: value for name, value in ticket["headers"].items() if name != "Content-Length"}
    headers.update(changed)
    async with httpx.AsyncClient() as http:
        return await http.put(ticket["url"], content=content, headers=headers)


async def complete(
    client: httpx.AsyncClient, who: Importer, ticket: dict[str, Any]
) -> httpx.Response:
    return await client.post(
        f"/api/ingest/uploads/{ticket['upload_id']}/complete", headers=who.headers
    )


async def test_a_presigned_put_is_imported_and_leaves_no_plaintext_in_the_bucket(
    client: httpx.AsyncClient, container: Container, bucket: Bucket
) -> None:
    org = await create_org(container)
    clerk = await importer(client, container, org)
    ticket = await declared(client, clerk)
    sha256 = hashlib.sha256(FILE).digest()

    # A presigned PUT of the generated key, signing length, checksum, encryption and tag.
    assert f"/{bucket.name}/cv/orgs/{org.id}/ingest/uploaded/" in ticket["url"]
    signed = ticket["url"].split("X-Amz-SignedHeaders=")[1].split("&")[0]
    for header in ("content-length", "x-amz-checksum-sha256", "x-amz-server-side-encryption"):
        assert header in signed
    assert ticket["headers"]["Content-Length"] == str(len(FILE))
    assert ticket["headers"]["x-amz-server-side-encryption"] == "aws:kms"
    assert ticket["headers"]["x-amz-tagging"] == "clinvault-area=ingest"
    assert ticket["max_bytes"] == len(FILE)
    assert ticket["complete_url"].endswith(f"/api/ingest/uploads/{ticket['upload_id']}/complete")

    early = await complete(client, clerk, ticket)
    assert "PUT the file" in problem(early, 409, "ingest_upload_incomplete")["detail"]

    sent = await put(ticket, FILE)
    assert sent.status_code == 200, sent.text
    [staged] = bucket.keys()
    tags = bucket.s3.get_object_tagging(Bucket=bucket.name, Key=staged)["TagSet"]
    assert tags == [{"Key": "clinvault-area", "Value": "ingest"}]
    # The reconcile keeps a staged file awaiting completion, whatever its age.
    report = await reconcile_objects(container, grace_minutes=0)
    assert report.orphaned == 0
    assert bucket.keys() == [staged]

    _, other_headers = await signed_in(
        client, container, await create_org(container), roles=[Role.CLERK]
    )
    foreign = await client.post(
        f"/api/ingest/uploads/{ticket['upload_id']}/complete", headers=other_headers
    )
    problem(foreign, 404, "ingest_upload_not_found")

    done = await complete(client, clerk, ticket)
    assert done.status_code == 200, done.text
    again = await complete(client, clerk, ticket)
    assert again.json()["id"] == done.json()["id"]
    job = await wait_job(client, clerk, done.json()["id"])

    assert job["state"] == "completed", job
    assert (job["rows_read"], job["rows_inserted"], job["sha256"]) == (3, 3, sha256.hex())
    [kept] = bucket.keys()
    assert "/ingest/completed/" in kept
    assert b"Lovelace" not in bucket.read(kept)  # envelope-encrypted: no plaintext left
    _, doctor = await signed_in(client, container, org, roles=[Role.DOCTOR])
    page = await client.get("/api/records/", params={"mrn": "MRN-1"}, headers=doctor)
    assert [item["content"] for item in page.json()["items"]] == [
        "First visit.",
        "Seen for cough, lungs clear.",
    ]


async def test_a_bigger_body_is_refused_at_completion_and_deleted(
    client: httpx.AsyncClient, container: Container, bucket: Bucket
) -> None:
    clerk = await importer(client, container, await create_org(container))
    ticket = await declared(client, clerk)
    await put(ticket, FILE + b"MRN-3,Grace,Hopper,2025-02-01T08:15:00Z,Extra.\n")

    refused = await complete(client, clerk, ticket)

    body = problem(refused, 422, "ingest_upload_mismatch")
    assert f"the upload declared {len(FILE)}" in body["detail"]
    assert bucket.keys() == []
    jobs = await client.get("/api/ingest/jobs", headers=clerk.headers)
    assert jobs.json()["total"] == 0


async def test_other_bytes_of_the_same_size_fail_the_job_before_any_row(
    client: httpx.AsyncClient, container: Container, bucket: Bucket
) -> None:
    clerk = await importer(client, container, await create_org(container))
    ticket = await declared(client, clerk)
    await put(ticket, FILE.replace(b"Ada", b"Eve"))

    done = await complete(client, clerk, ticket)
    assert done.status_code == 200, done.text
    job = await wait_job(client, clerk, done.json()["id"])

    assert job["state"] == "failed"
    assert "not the one the upload declared" in job["message"]
    assert (job["rows_read"], job["rows_inserted"]) == (0, 0)
    assert bucket.keys() == []


async def test_s3_uploads_must_declare_size_and_checksum_within_the_limit(
    client: httpx.AsyncClient, container: Container, bucket: Bucket
) -> None:
    clerk = await importer(client, container, await create_org(container))
    bare = await client.post(
        "/api/ingest/uploads", json={"filename": "visits.csv"}, headers=clerk.headers
    )
    assert "SHA-256" in problem(bare, 422, "ingest_upload_undeclared")["detail"]
    huge = await client.post(
        "/api/ingest/uploads",
        json={
            "filename": "visits.csv",
            "size": container.settings.ingest.max_file_bytes + 1,
            "sha256": "0" * 64,
        },
        headers=clerk.headers,
    )
    problem(huge, 413, "ingest_file_too_large")


async def test_an_expired_upload_is_refused_and_its_staged_file_is_an_orphan(
    client: httpx.AsyncClient, container: Container, bucket: Bucket
) -> None:
    clerk = await importer(client, container, await create_org(container))
    ticket = await declared(client, clerk)
    await put(ticket, FILE)
    async with container.db.unit_of_work() as session:
        await session.execute(
            update(IngestUpload).values(expires_at=utcnow() - timedelta(minutes=1))
        )

    report = await reconcile_objects(container, grace_minutes=0)

    assert (report.orphaned, report.deleted) == (1, 1)
    assert bucket.keys() == []
    late = await complete(client, clerk, ticket)
    assert "create a new upload" in problem(late, 410, "ingest_url_expired")["detail"]
