"""The object-storage port. Keys are relative, '/'-separated, confined to the root."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class StoredObjectInfo:
    """One stored object as a listing sees it: its key, byte count and last write (UTC)."""

    key: str
    size: int
    modified_at: datetime


class ObjectStorage(Protocol):
    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        """Store the stream under key atomically; return the byte count."""
        ...

    def get(self, key: str) -> AsyncIterator[bytes]:
        """Stream the object; raise ObjectMissing when absent."""
        ...

    async def exists(self, key: str) -> bool: ...

    async def delete(self, key: str) -> None:
        """Remove the object; deleting a missing object is not an error."""
        ...

    def list(self, prefix: str) -> AsyncIterator[StoredObjectInfo]:
        """Stream the objects whose key starts with prefix (a plain string), sorted by key.

        Writes still in flight are not listed; a prefix that breaks the key
        rules raises KeyRejected.
        """
        ...

    async def check(self) -> None:
        """Raise when the backend is unreachable (readiness)."""
        ...


class StorageError(Exception):
    pass


class ObjectMissing(StorageError):
    pass


class KeyRejected(StorageError):
    """The key is empty, absolute, or escapes the storage root."""
