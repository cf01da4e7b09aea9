"""Object storage in an S3 bucket (AWS S3 or any S3 API), under an optional key prefix.

boto3 is blocking, so each request runs in a worker thread (ADR 0018). A put
streams: input is gathered into parts of `part_size` bytes; a stream that ends
within the first part is one PutObject, a longer one a multipart upload whose
parts go up as they fill, so memory stays at one part whatever the object's
size. A multipart upload is invisible until completed, and a failed or
cancelled put aborts it, so nothing half-written is ever listed or read.

What reaches the bucket is already envelope-encrypted above this port
(`EncryptedObjectStore`); every write also asks for SSE-KMS, so the bucket
keeps a second, server-side layer under the configured KMS key. The one
exception is `presigned_upload`: a CSV a client PUTs straight to the bucket,
under SSE only, until its import job re-encrypts it (clinvault.ingest.direct).

A bucket that does not exist, denies access or cannot be reached raises
`StorageUnavailable`: a `StorageError` for the code below the API and a 503
problem with Retry-After for a request.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from clinvault.errors.backends import BackendUnavailable
from clinvault.storage.keys import validate_key, validate_prefix
from clinvault.storage.ports import ObjectMissing, StorageError, StoredObjectInfo

READ_CHUNK = 256 * 1024
MIN_PART_SIZE = 5 * 1024 * 1024
DEFAULT_PART_SIZE = 8 * 1024 * 1024
PRESIGN_MAX_SECONDS = 7 * 24 * 3600
_MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
_T = TypeVar("_T")


# Matches INGEST_TAG of the CDK stack (deploy/aws): the lifecycle rules expire by it.
INGEST_TAGGING = "clinvault-area=ingest"


class StorageUnavailable(StorageError, BackendUnavailable):
    """The bucket cannot be used now; the message names what to fix."""

    code = "storage_unavailable"
    title = "Object storage is unavailable"


@dataclass(frozen=True, slots=True)
class ObjectHead:
    size: int
    sha256_base64: str | None
    server_side_encryption: str | None


class S3Storage:
    """`ObjectStorage` whose object `key` is `{prefix}{key}` in `bucket`."""

    def __init__(
        self,
        client: Any,
        bucket: str,
        prefix: str = "",
        *,
        sse_kms_key_id: str | None = None,
        server_side_encryption: str | None = "aws:kms",
        part_size: int = DEFAULT_PART_SIZE,
    ) -> None:
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"part_size must be at least {MIN_PART_SIZE} bytes (an S3 rule)")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        self._client = client
        self._bucket = bucket
        self._prefix = prefix
        self._part_size = part_size
        self._sse: dict[str, str] = {}
        if server_side_encryption:
            self._sse["ServerSideEncryption"] = server_side_encryption
            if sse_kms_key_id and server_side_encryption == "aws:kms":
                self._sse["SSEKMSKeyId"] = sse_kms_key_id

    def __repr__(self) -> str:
        return f"S3Storage(bucket={self._bucket!r}, prefix={self._prefix!r})"

    @property
    def bucket(self) -> str:
        return self._bucket

    @property
    def prefix(self) -> str:
        return self._prefix

    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        name = self._name(key)
        write_args = self._write_args(key)
        size = 0
        part = bytearray()
        upload: _MultipartUpload | None = None
        # One part goes up while the next is gathered (and encrypted upstream):
        # memory stays within two parts.
        in_flight: asyncio.Future[None] | None = None
        try:
            async for chunk in chunks:
                part += chunk
                size += len(chunk)
                while len(part) >= self._part_size:
                    if upload is None:
                        upload = await self._call(key, self._begin_multipart, name, write_args)
                    body = bytes(part[: self._part_size])
                    del part[: self._part_size]
                    if in_flight is not None:
                        await in_flight
                    in_flight = asyncio.ensure_future(self._call(key, upload.send, body))
            if in_flight is not None:
                await in_flight
            if upload is None:
                await self._call(key, self._put_single, name, bytes(part), write_args)
            else:
                if part:
                    await self._call(key, upload.send, bytes(part))
                await self._call(key, upload.complete)
        except BaseException:
            if upload is not None:
                # Runs on even when this task is cancelled (after a part still being
                # sent); a failing abort leaves a pending upload for the bucket's
                # lifecycle rule, never a visible object.
                abort = asyncio.ensure_future(_abort_after(in_flight, upload))
                with contextlib.suppress(BaseException):
                    await asyncio.shield(abort)
            raise
        return size

    async def get(self, key: str) -> AsyncIterator[bytes]:
        name = self._name(key)
        response = await self._call(key, self._open_for_read, key, name)
        body = response["Body"]
        try:
            while chunk := await self._call(key, body.read, READ_CHUNK):
                yield chunk
        finally:
            body.close()

    async def exists(self, key: str) -> bool:
        name = self._name(key)
        try:
            await self._call(key, self._head, name)
        except ObjectMissing:
            return False
        return True

    async def delete(self, key: str) -> None:
        name = self._name(key)
        await self._call(key, lambda: self._client.delete_object(Bucket=self._bucket, Key=name))

    async def list(self, prefix: str) -> AsyncIterator[StoredObjectInfo]:
        """Objects under `prefix`, in key order (S3 lists keys in UTF-8 byte order)."""
        validate_prefix(prefix)
        token: str | None = None
        while True:
            page = await self._call(prefix, self._list_page, self._prefix + prefix, token)
            for entry in page.get("Contents", []):
                modified = entry["LastModified"]
                if modified.tzinfo is None:
                    modified = modified.replace(tzinfo=UTC)
                yield StoredObjectInfo(
                    entry["Key"][len(self._prefix) :], int(entry["Size"]), modified
                )
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return

    async def check(self) -> None:
        """Raise `StorageUnavailable` naming the fix unless the bucket answers."""
        await self._call("", lambda: self._client.head_bucket(Bucket=self._bucket))

    def presigned_put_url(self, key: str, *, expires_in: int) -> str:
        """A URL that lets its holder PUT exactly this object for `expires_in` seconds.

        The signature covers the SSE-KMS headers: the uploader must send them.
        """
        if not 1 <= expires_in <= PRESIGN_MAX_SECONDS:
            raise ValueError(f"expires_in must be 1..{PRESIGN_MAX_SECONDS} seconds")
        url: str = self._client.generate_presigned_url(
            "put_object",
            Params={"Bucket": self._bucket, "Key": self._name(key), **self._sse},
            ExpiresIn=expires_in,
            HttpMethod="PUT",
        )
        return url

    @property
    def presigned_put_headers(self) -> dict[str, str]:
        """The headers a client must send with a presigned PUT."""
        headers = {}
        if "ServerSideEncryption" in self._sse:
            headers["x-amz-server-side-encryption"] = self._sse["ServerSideEncryption"]
        if "SSEKMSKeyId" in self._sse:
            headers["x-amz-server-side-encryption-aws-kms-key-id"] = self._sse["SSEKMSKeyId"]
        return headers

    def presigned_upload(
        self, key: str, *, expires_in: int, size: int, sha256_base64: str
    ) -> tuple[str, dict[str, str]]:
        """A URL for one PUT of exactly `size` bytes whose SHA-256 is `sha256_base64`,
        and the headers its holder must send.

        The signature covers Content-Length, `x-amz-checksum-sha256` (S3 refuses a
        body with another checksum), the server-side encryption (the configured
        SSE-KMS, else SSE-S3) and, under `orgs/*/ingest/`, the lifecycle tag.
        """
        if not 1 <= expires_in <= PRESIGN_MAX_SECONDS:
            raise ValueError(f"expires_in must be 1..{PRESIGN_MAX_SECONDS} seconds")
        sse = self._sse or {"ServerSideEncryption": "AES256"}
        params: dict[str, Any] = {
            "Bucket": self._bucket,
            "Key": self._name(key),
            "ContentLength": size,
            "ChecksumSHA256": sha256_base64,
            **{name: value for name, value in self._write_args(key).items() if name == "Tagging"},
            **sse,
        }
        url: str = self._client.generate_presigned_url(
            "put_object", Params=params, ExpiresIn=expires_in, HttpMethod="PUT"
        )
        headers = {"Content-Length": str(size), "x-amz-checksum-sha256": sha256_base64}
        headers["x-amz-server-side-encryption"] = sse["ServerSideEncryption"]
        if "SSEKMSKeyId" in sse:
            headers["x-amz-server-side-encryption-aws-kms-key-id"] = sse["SSEKMSKeyId"]
        if "Tagging" in params:
            headers["x-amz-tagging"] = params["Tagging"]
        return url, headers

    async def head(self, key: str) -> ObjectHead:
        """Size, stored SHA-256 (base64, when S3 kept one) and server-side encryption;
        `ObjectMissing` when absent."""
        name = self._name(key)
        answer = await self._call(key, self._head, name)
        return ObjectHead(
            size=int(answer.get("ContentLength", 0)),
            sha256_base64=answer.get("ChecksumSHA256"),
            server_side_encryption=answer.get("ServerSideEncryption"),
        )

    def _name(self, key: str) -> str:
        return self._prefix + validate_key(key)

    def _write_args(self, key: str) -> dict[str, str]:
        """SSE settings, plus the tag by which the bucket's lifecycle rules find ingest files
        (S3 lifecycle filters cannot match `orgs/*/ingest/`)."""
        parts = key.split("/")
        if len(parts) > 3 and parts[0] == "orgs" and parts[2] == "ingest":
            return {**self._sse, "Tagging": INGEST_TAGGING}
        return dict(self._sse)

    def _put_single(self, name: str, body: bytes, write_args: dict[str, str]) -> None:
        self._client.put_object(Bucket=self._bucket, Key=name, Body=body, **write_args)

    def _begin_multipart(self, name: str, write_args: dict[str, str]) -> _MultipartUpload:
        response = self._client.create_multipart_upload(Bucket=self._bucket, Key=name, **write_args)
        return _MultipartUpload(self._client, self._bucket, name, response["UploadId"])

    def _open_for_read(self, key: str, name: str) -> dict[str, Any]:
        try:
            response: dict[str, Any] = self._client.get_object(Bucket=self._bucket, Key=name)
        except Exception as exc:
            if _error_code(exc) in _MISSING_CODES:
                raise ObjectMissing(f"no object {key!r}") from None
            raise
        return response

    def _head(self, name: str) -> dict[str, Any]:
        try:
            answer: dict[str, Any] = self._client.head_object(
                Bucket=self._bucket, Key=name, ChecksumMode="ENABLED"
            )
        except Exception as exc:
            if _error_code(exc) in _MISSING_CODES:
                raise ObjectMissing(name) from None
            raise
        return answer

    def _list_page(self, prefix: str, token: str | None) -> dict[str, Any]:
        params: dict[str, Any] = {"Bucket": self._bucket, "Prefix": prefix, "MaxKeys": 1000}
        if token:
            params["ContinuationToken"] = token
        page: dict[str, Any] = self._client.list_objects_v2(**params)
        return page

    async def _call(self, key: str, function: Callable[..., _T], *args: Any) -> _T:
        try:
            return await asyncio.to_thread(function, *args)
        except (BotoCoreError, ClientError) as exc:
            raise self._unavailable(key, exc) from None

    def _unavailable(self, key: str, exc: Exception) -> StorageError:
        code = _error_code(exc)
        where = f"S3 bucket {self._bucket!r}"
        if code in ("NoSuchBucket",) or (code == "404" and not key):
            fix = f"{where} does not exist: create it or correct CLINVAULT_STORAGE_URL"
        elif code in ("AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
            fix = (
                f"{where} denied access ({code}): grant this service's role s3:GetObject, "
                "s3:PutObject, s3:DeleteObject and s3:ListBucket on it (and kms:GenerateDataKey "
                "on its SSE-KMS key)"
            )
        elif code in ("KMS.DisabledException", "KMS.NotFoundException", "KMSKeyNotAccessible"):
            fix = (
                f"{where}: its SSE-KMS key cannot be used ({code}); enable the key or correct "
                "CLINVAULT_S3_SSE_KMS_KEY_ID"
            )
        elif code is None:
            fix = (
                f"{where} is unreachable ({type(exc).__name__}): check the network, the region "
                "and CLINVAULT_S3_ENDPOINT_URL"
            )
        else:
            fix = f"{where} refused the request ({code}); try again shortly"
        return StorageUnavailable(f"Object storage is unavailable: {fix}.")


class _MultipartUpload:
    """One multipart upload: parts are sent in order, then completed or aborted."""

    def __init__(self, client: Any, bucket: str, name: str, upload_id: str) -> None:
        self._client = client
        self._bucket = bucket
        self._name = name
        self._upload_id = upload_id
        self.parts: list[dict[str, Any]] = []

    def send(self, body: bytes) -> None:
        number = len(self.parts) + 1
        response = self._client.upload_part(
            Bucket=self._bucket,
            Key=self._name,
            UploadId=self._upload_id,
            PartNumber=number,
            Body=body,
        )
        self.parts.append({"PartNumber": number, "ETag": response["ETag"]})

    def complete(self) -> None:
        self._client.complete_multipart_upload(
            Bucket=self._bucket,
            Key=self._name,
            UploadId=self._upload_id,
            MultipartUpload={"Parts": self.parts},
        )

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self._client.abort_multipart_upload(
                Bucket=self._bucket, Key=self._name, UploadId=self._upload_id
            )


async def _abort_after(in_flight: asyncio.Future[None] | None, upload: _MultipartUpload) -> None:
    if in_flight is not None:
        with contextlib.suppress(BaseException):
            await in_flight
    await asyncio.to_thread(upload.abort)


def _error_code(exc: BaseException) -> str | None:
    """The S3 error code of a botocore ClientError; None for a transport failure."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code is not None else None
    return None
