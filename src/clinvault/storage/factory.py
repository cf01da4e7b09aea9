"""Builds the object storage named by CLINVAULT_STORAGE_URL."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from clinvault.storage.local import LocalStorage
from clinvault.storage.ports import ObjectStorage


def open_storage(url: str) -> ObjectStorage:
    """`file:///path/to/objects` opens a directory (created on first write)."""
    scheme = urlsplit(url).scheme
    if scheme != "file":
        raise ValueError(
            f"unsupported object storage scheme {scheme!r}: use file:///path/to/objects"
        )
    return LocalStorage(_file_url_path(url))


def _file_url_path(url: str) -> Path:
    # Same reading as Settings.local_path: file://relative/dir stays relative.
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        raise ValueError("a file:// storage URL must not carry a query or fragment")
    raw = parts.netloc + parts.path
    if not raw:
        raise ValueError("the file:// storage URL names no path")
    return Path(raw)
