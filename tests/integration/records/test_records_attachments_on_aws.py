"""Attachments through the API on S3 + KMS (moto's APIs), and what a request sees on failure."""

from __future__ import annotations

from pathlib import Path

import boto3
import httpx
import pytest
from tests.contracts.conftest import MotoServer, free_port, moto_server  # noqa: F401
from tests.factories import problem
from tests.integration.records.conftest import Clinic
from tests.integration.records.test_records_attachments import _record, png_bytes

from clinvault.bootstrap import Container
from clinvault.crypto.kms import KmsKeyProvider
from clinvault.storage.objects import EncryptedObjectStore
from clinvault.storage.s3 import S3Storage


def _use(
    monkeypatch: pytest.MonkeyPatch, container: Container, objects: EncryptedObjectStore
) -> None:
    monkeypatch.setattr(container, "objects", objects)
    monkeypatch.setattr(container, "storage", objects.storage)


async def _upload(client: httpx.AsyncClient, clinic: Clinic, record_id: str) -> httpx.Response:
    return await client.post(
        f"/api/records/{record_id}/attachments",
        files={"file": ("scan.png", png_bytes(), "image/png")},
        headers=clinic.headers["nurse"],
    )


async def _attachment_ids(client: httpx.AsyncClient, clinic: Clinic, record_id: str) -> list[str]:
    answer = await client.get(f"/api/records/{record_id}", headers=clinic.headers["doctor"])
    return [a["id"] for a in answer.json()["attachments"]]


async def test_attachments_round_trip_through_s3_and_kms(
    client: httpx.AsyncClient,
    container: Container,
    clinic: Clinic,
    moto_server: MotoServer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    kms = moto_server.client("kms")
    keys = KmsKeyProvider(kms, kms.create_key()["KeyMetadata"]["KeyId"], tmp_path / "w.json")
    bucket = moto_server.new_bucket()
    s3 = moto_server.client("s3")
    _use(monkeypatch, container, EncryptedObjectStore(S3Storage(s3, bucket, "cv"), keys))
    _, record_id = await _record(client, clinic)

    uploaded = await _upload(client, clinic, record_id)

    assert uploaded.status_code == 201, uploaded.text
    url = f"/api/records/{record_id}/attachments/{uploaded.json()['id']}/content"
    download = await client.get(url, headers=clinic.headers["doctor"])
    assert download.status_code == 200
    assert download.content == png_bytes()
    [entry] = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert entry["Key"].startswith(f"cv/orgs/{clinic.org.id}/records/")
    assert png_bytes() not in s3.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read()

    # The same object while the S3 endpoint is stopped: a 503 to retry, not a 500.
    stopped = boto3.session.Session(
        aws_access_key_id="t", aws_secret_access_key="t", region_name="us-east-1"
    ).client("s3", endpoint_url=f"http://127.0.0.1:{free_port()}")
    _use(monkeypatch, container, EncryptedObjectStore(S3Storage(stopped, bucket, "cv"), keys))
    unavailable = await client.get(url, headers=clinic.headers["doctor"])
    problem(unavailable, 503, "storage_unavailable")
    assert unavailable.headers["Retry-After"].isdigit()


async def test_a_missing_bucket_is_a_503_with_retry_after_and_nothing_kept(
    client: httpx.AsyncClient,
    container: Container,
    clinic: Clinic,
    moto_server: MotoServer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, record_id = await _record(client, clinic)
    storage = S3Storage(moto_server.client("s3"), "clinvault-bucket-that-was-deleted")
    _use(monkeypatch, container, EncryptedObjectStore(storage, container.keys))

    answer = await _upload(client, clinic, record_id)

    body = problem(answer, 503, "storage_unavailable")
    assert answer.headers["Retry-After"].isdigit()
    assert "'clinvault-bucket-that-was-deleted' does not exist" in body["detail"]
    assert await _attachment_ids(client, clinic, record_id) == []
    ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["storage"] == "unavailable"


async def test_a_stopped_kms_is_a_503_with_retry_after_and_nothing_kept(
    client: httpx.AsyncClient,
    container: Container,
    clinic: Clinic,
    moto_server: MotoServer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    _, record_id = await _record(client, clinic)
    # The KMS API at an address nobody serves: a stopped or unreachable endpoint.
    kms = boto3.session.Session(
        aws_access_key_id="t", aws_secret_access_key="t", region_name="us-east-1"
    ).client("kms", endpoint_url=f"http://127.0.0.1:{free_port()}")
    keys = KmsKeyProvider(kms, "alias/clinvault", tmp_path / "w.json")
    bucket = moto_server.new_bucket()
    storage = S3Storage(moto_server.client("s3"), bucket)
    _use(monkeypatch, container, EncryptedObjectStore(storage, keys))

    answer = await _upload(client, clinic, record_id)

    body = problem(answer, 503, "keys_unavailable")
    assert answer.headers["Retry-After"].isdigit()
    assert "KMS is unreachable" in body["detail"]
    assert await _attachment_ids(client, clinic, record_id) == []
    assert "Contents" not in moto_server.client("s3").list_objects_v2(Bucket=bucket)
