"""Builds the object storage named by CLINVAULT_STORAGE_URL."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from clinvault.aws import aws_client
from clinvault.storage.local import LocalStorage
from clinvault.storage.ports import ObjectStorage
from clinvault.storage.s3 import S3Storage


def open_storage(
    url: str,
    *,
    s3_endpoint_url: str | None = None,
    sse_kms_key_id: str | None = None,
    server_side_encryption: str | None = "aws:kms",
) -> ObjectStorage:
    """`file:///path/to/objects` opens a directory (created on first write);
    `s3://bucket/prefix` a bucket, through `s3_endpoint_url` for another S3 API."""
    scheme = urlsplit(url).scheme
    if scheme == "s3":
        bucket, prefix = parse_s3_url(url)
        return S3Storage(
            aws_client("s3", endpoint_url=s3_endpoint_url),
            bucket,
            prefix,
            sse_kms_key_id=sse_kms_key_id,
            server_side_encryption=server_side_encryption,
        )
    if scheme != "file":
        raise ValueError(
            f"unsupported object storage scheme {scheme!r}: use file:///path/to/objects "
            "or s3://bucket/prefix"
        )
    return LocalStorage(_file_url_path(url))


def parse_s3_url(url: str) -> tuple[str, str]:
    """(bucket, key prefix) of `s3://bucket/prefix`; the prefix may be empty."""
    parts = urlsplit(url)
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(
            f"storage URL {url!r}: an s3:// URL is s3://bucket/prefix, without query, "
            "fragment or credentials (credentials come from the AWS environment or role)"
        )
    bucket = parts.netloc
    if not bucket:
        raise ValueError(f"storage URL {url!r} names no bucket: use s3://bucket/prefix")
    prefix = parts.path.strip("/")
    return bucket, prefix + "/" if prefix else ""


def _file_url_path(url: str) -> Path:
    # Same reading as Settings.local_path: file://relative/dir stays relative.
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        raise ValueError("a file:// storage URL must not carry a query or fragment")
    raw = parts.netloc + parts.path
    if not raw:
        raise ValueError("the file:// storage URL names no path")
    return Path(raw)
