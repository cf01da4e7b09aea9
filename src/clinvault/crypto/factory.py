"""Builds the key provider named by CLINVAULT_KEYS_URL."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from clinvault.crypto.keyring import LocalKeyring
from clinvault.crypto.ports import KeyProvider


def open_key_provider(url: str) -> KeyProvider:
    """`file:///path/keyring.json` opens a local keyring (created on first use)."""
    scheme = urlsplit(url).scheme
    if scheme != "file":
        raise ValueError(
            f"unsupported key provider scheme {scheme!r}: use file:///path/to/keyring.json"
        )
    return LocalKeyring(_file_url_path(url))


def _file_url_path(url: str) -> Path:
    # Same reading as Settings.local_path: file://relative/dir stays relative.
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        raise ValueError("a file:// keys URL must not carry a query or fragment")
    raw = parts.netloc + parts.path
    if not raw:
        raise ValueError("the file:// keys URL names no path")
    return Path(raw)
