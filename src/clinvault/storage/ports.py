"""The object-storage port. Keys are relative, '/'-separated, confined to the root."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from typing import Protocol


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

    def list(self, prefix: str) -> AsyncIterator[str]: ...

    async def check(self) -> None:
        """Raise when the backend is unreachable (readiness)."""
        ...


class StorageError(Exception):
    pass


class ObjectMissing(StorageError):
    pass


class KeyRejected(StorageError):
    """The key is empty, absolute, or escapes the storage root."""
