"""What the S3 adapter adds to the storage contract: SSE-KMS, multipart, presigned PUTs, faults."""

from __future__ import annotations

import base64
import hashlib
import os
import socket
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from tests.contracts.conftest import MotoServer, free_port

from clinvault.errors.base import AppError
from clinvault.storage.factory import open_storage, parse_s3_url
from clinvault.storage.s3 import MIN_PART_SIZE, S3Storage, StorageUnavailable


async def _pieces(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def _kms_key(moto_server: MotoServer) -> str:
    key_id: str = moto_server.client("kms").create_key()["KeyMetadata"]["Arn"]
    return key_id


@pytest.mark.asyncio
async def test_every_write_asks_for_sse_kms_under_the_configured_key(
    moto_server: MotoServer,
) -> None:
    client = moto_server.client("s3")
    bucket = moto_server.new_bucket()
    key_arn = _kms_key(moto_server)
    storage = S3Storage(client, bucket, "p", sse_kms_key_id=key_arn, part_size=MIN_PART_SIZE)

    await storage.put("orgs/1/small", _pieces(b"ciphertext", 3))
    await storage.put("orgs/1/large", _pieces(os.urandom(MIN_PART_SIZE + 10), 65536))

    for name in ("p/orgs/1/small", "p/orgs/1/large"):
        head = client.head_object(Bucket=bucket, Key=name)
        assert head["ServerSideEncryption"] == "aws:kms"
        assert head["SSEKMSKeyId"] == key_arn
    # The large object went up in parts: its ETag carries the part count.
    assert client.head_object(Bucket=bucket, Key="p/orgs/1/large")["ETag"].endswith('-2"')


@pytest.mark.asyncio
async def test_ingest_files_carry_the_tag_the_lifecycle_rules_expire_by(
    moto_server: MotoServer,
) -> None:
    client = moto_server.client("s3")
    bucket = moto_server.new_bucket()
    storage = S3Storage(client, bucket, "p", part_size=MIN_PART_SIZE)

    await storage.put("orgs/1/ingest/uploaded/a.csv", _pieces(b"ciphertext", 4))
    large = os.urandom(MIN_PART_SIZE + 1)
    await storage.put("orgs/1/ingest/processing/b.csv", _pieces(large, 65536))
    await storage.put("orgs/1/credentials/u/d/v1", _pieces(b"ciphertext", 4))

    def tags(name: str) -> dict[str, str]:
        found = client.get_object_tagging(Bucket=bucket, Key=name)["TagSet"]
        return {tag["Key"]: tag["Value"] for tag in found}

    assert tags("p/orgs/1/ingest/uploaded/a.csv") == {"clinvault-area": "ingest"}
    assert tags("p/orgs/1/ingest/processing/b.csv") == {"clinvault-area": "ingest"}
    assert tags("p/orgs/1/credentials/u/d/v1") == {}


@pytest.mark.asyncio
async def test_objects_live_under_the_url_prefix(moto_server: MotoServer) -> None:
    bucket = moto_server.new_bucket()
    storage = open_storage(f"s3://{bucket}/tenant/a", s3_endpoint_url=moto_server.endpoint)

    await storage.put("orgs/1/doc", _pieces(b"x", 1))

    listed = moto_server.client("s3").list_objects_v2(Bucket=bucket)["Contents"]
    assert [entry["Key"] for entry in listed] == ["tenant/a/orgs/1/doc"]
    assert [info.key async for info in storage.list("orgs/")] == ["orgs/1/doc"]


@pytest.mark.asyncio
async def test_a_presigned_put_url_stores_exactly_that_object(moto_server: MotoServer) -> None:
    bucket = moto_server.new_bucket()
    storage = S3Storage(moto_server.client("s3"), bucket, "in")

    url = storage.presigned_put_url("orgs/1/ingest/upload.csv", expires_in=300)
    async with httpx.AsyncClient() as http:
        answer = await http.put(url, content=b"a,b\n1,2\n", headers=storage.presigned_put_headers)

    assert answer.status_code == 200
    got = b"".join([c async for c in storage.get("orgs/1/ingest/upload.csv")])
    assert got == b"a,b\n1,2\n"
    # Signature V4, bounded lifetime, and the SSE-KMS header inside the signature.
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Expires"] == ["300"]
    assert "x-amz-server-side-encryption" in query["X-Amz-SignedHeaders"][0]
    with pytest.raises(ValueError, match="expires_in"):
        storage.presigned_put_url("orgs/1/x", expires_in=0)


@pytest.mark.asyncio
async def test_a_presigned_upload_signs_length_checksum_encryption_and_tag(
    moto_server: MotoServer,
) -> None:
    bucket = moto_server.new_bucket()
    s3 = moto_server.client("s3")
    # No SSE configured (an S3 API without KMS): the upload still requires SSE-S3.
    storage = S3Storage(s3, bucket, "in", server_side_encryption=None)
    body = b"a,b\n1,2\n"
    checksum = base64.b64encode(hashlib.sha256(body).digest()).decode()

    url, headers = storage.presigned_upload(
        "orgs/1/ingest/uploaded/x.csv", expires_in=300, size=len(body), sha256_base64=checksum
    )
    async with httpx.AsyncClient() as http:
        answer = await http.put(url, content=body, headers=headers)

    assert answer.status_code == 200
    assert headers == {
        "Content-Length": str(len(body)),
        "x-amz-checksum-sha256": checksum,
        "x-amz-server-side-encryption": "AES256",
        "x-amz-tagging": "clinvault-area=ingest",
    }
    signed = parse_qs(urlsplit(url).query)["X-Amz-SignedHeaders"][0].split(";")
    assert set(signed) >= {name.lower() for name in headers}
    head = await storage.head("orgs/1/ingest/uploaded/x.csv")
    assert (head.size, head.server_side_encryption) == (len(body), "AES256")
    tags = s3.get_object_tagging(Bucket=bucket, Key="in/orgs/1/ingest/uploaded/x.csv")
    assert tags["TagSet"] == [{"Key": "clinvault-area", "Value": "ingest"}]


@pytest.mark.asyncio
async def test_a_missing_bucket_names_the_bucket_and_is_a_503(moto_server: MotoServer) -> None:
    storage = S3Storage(moto_server.client("s3"), "clinvault-no-such-bucket")

    with pytest.raises(StorageUnavailable) as caught:
        await storage.check()
    with pytest.raises(StorageUnavailable):
        await storage.put("orgs/1/doc", _pieces(b"x", 1))

    error = caught.value
    assert "'clinvault-no-such-bucket' does not exist" in error.detail
    assert "CLINVAULT_STORAGE_URL" in error.detail
    assert isinstance(error, AppError)
    assert error.status == 503
    assert error.headers["Retry-After"].isdigit()


@pytest.mark.asyncio
async def test_a_stopped_endpoint_is_unavailable_not_a_crash(moto_server: MotoServer) -> None:
    storage = open_storage("s3://bucket/p", s3_endpoint_url=f"http://127.0.0.1:{free_port()}")

    with pytest.raises(StorageUnavailable, match=r"unreachable.*CLINVAULT_S3_ENDPOINT_URL"):
        await storage.check()
    with pytest.raises(StorageUnavailable):
        await storage.put("orgs/1/doc", _pieces(b"x", 1))
    with pytest.raises(StorageUnavailable):
        [chunk async for chunk in storage.get("orgs/1/doc")]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("s3://bucket", ("bucket", "")),
        ("s3://bucket/", ("bucket", "")),
        ("s3://bucket/a/b/", ("bucket", "a/b/")),
        ("s3://bucket/a", ("bucket", "a/")),
    ],
)
def test_s3_urls(url: str, expected: tuple[str, str]) -> None:
    assert parse_s3_url(url) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("s3:///prefix", "names no bucket"),
        ("s3://bucket/p?region=x", "without query"),
        ("s3://key:secret@bucket/p", "credentials"),
        ("gs://bucket/p", "s3://bucket/prefix"),
    ],
)
def test_bad_storage_urls_say_what_to_write(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        open_storage(url)


@pytest.mark.asyncio
async def test_a_stream_failing_after_parts_went_up_leaves_no_object_and_no_upload(
    moto_server: MotoServer,
) -> None:
    client = moto_server.client("s3")
    bucket = moto_server.new_bucket()
    storage = S3Storage(client, bucket, part_size=MIN_PART_SIZE)

    async def failing() -> AsyncIterator[bytes]:
        for _ in range(5 * MIN_PART_SIZE // (1024 * 1024) // 2):
            yield os.urandom(1024 * 1024)
        raise RuntimeError("client went away")

    with pytest.raises(RuntimeError, match="went away"):
        await storage.put("orgs/1/big", failing())

    assert not await storage.exists("orgs/1/big")
    assert client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


@pytest.mark.asyncio
async def test_an_endpoint_that_never_answers_times_out_as_unavailable() -> None:
    import boto3
    from botocore.config import Config

    with socket.socket() as silent:  # accepts connections (backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        client = boto3.session.Session(
            aws_access_key_id="t", aws_secret_access_key="t", region_name="us-east-1"
        ).client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{silent.getsockname()[1]}",
            config=Config(connect_timeout=1, read_timeout=1, retries={"total_max_attempts": 1}),
        )
        storage = S3Storage(client, "bucket")

        with pytest.raises(StorageUnavailable, match=r"unreachable \(ReadTimeoutError\)"):
            await storage.check()
        with pytest.raises(StorageUnavailable):
            await storage.put("orgs/1/doc", _pieces(b"x", 1))
