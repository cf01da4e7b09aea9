"""Builds the key provider named by CLINVAULT_KEYS_URL."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from botocore.exceptions import NoRegionError

from clinvault.aws import aws_client
from clinvault.crypto.keyring import LocalKeyring
from clinvault.crypto.kms import KmsKeyProvider
from clinvault.crypto.ports import KeyProvider

_KMS_ARN = re.compile(
    r"arn:aws[a-z-]*:kms:([a-z0-9-]+):\d{12}:(key/[0-9a-fA-F-]+|alias/[\w/+=,.@-]+)"
)
_KMS_NAME = re.compile(r"(alias/[\w/+=,.@-]+|[0-9a-fA-F-]{36}|mrk-[0-9a-f]{32})")


def open_key_provider(
    url: str,
    *,
    wrapped_keyring: Path | None = None,
    kms_endpoint_url: str | None = None,
) -> KeyProvider:
    """`file:///path/keyring.json` opens a local keyring (created on first use);
    `arn:aws:kms:region:account:key/id`, `...:alias/name`, `kms://alias/name` or
    `kms://key-id` a KMS key, with its wrapped secrets in `wrapped_keyring`."""
    scheme = urlsplit(url).scheme
    if scheme in ("arn", "kms"):
        key_id, region = parse_kms_url(url)
        if wrapped_keyring is None:
            raise ValueError("a KMS key provider needs the path of its wrapped keyring file")
        try:
            client = aws_client("kms", endpoint_url=kms_endpoint_url, region=region)
        except NoRegionError:
            raise ValueError(
                f"CLINVAULT_KEYS_URL={url!r} names no region: set AWS_REGION or give the "
                "key's full ARN"
            ) from None
        return KmsKeyProvider(client, key_id, wrapped_keyring)
    if scheme != "file":
        raise ValueError(
            f"unsupported key provider scheme {scheme!r}: use file:///path/to/keyring.json, "
            "a KMS key ARN (arn:aws:kms:region:account:key/id) or kms://alias/name"
        )
    return LocalKeyring(_file_url_path(url))


def parse_kms_url(url: str) -> tuple[str, str | None]:
    """(key id for the KMS API, region or None for the default) of a keys URL."""
    if url.startswith("arn:"):
        match = _KMS_ARN.fullmatch(url)
        if match is None:
            raise ValueError(
                f"CLINVAULT_KEYS_URL={url!r} is not a KMS key ARN: expected "
                "arn:aws:kms:<region>:<account>:key/<key-id> or ...:alias/<name>"
            )
        return url, match.group(1)
    parts = urlsplit(url)
    name = (parts.netloc + parts.path).strip("/")
    if parts.query or parts.fragment or _KMS_NAME.fullmatch(name) is None:
        raise ValueError(
            f"CLINVAULT_KEYS_URL={url!r}: write kms://alias/<name> or kms://<key-id> "
            "(the region comes from AWS_REGION), or give the key's full ARN"
        )
    return name, None


def _file_url_path(url: str) -> Path:
    # Same reading as Settings.local_path: file://relative/dir stays relative.
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        raise ValueError("a file:// keys URL must not carry a query or fragment")
    raw = parts.netloc + parts.path
    if not raw:
        raise ValueError("the file:// keys URL names no path")
    return Path(raw)
