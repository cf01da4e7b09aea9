"""The key-provider port: wraps data keys and derives purpose keys."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class WrappedKey:
    version: int
    blob: bytes


class KeyProvider(Protocol):
    """Keeps key-encryption keys away from the data they protect.

    `wrap`/`unwrap` protect per-object data keys (envelope encryption);
    `derive` returns a 32-byte key for one purpose ("field", "blind-index",
    "audit", "token") at a version (current when None).
    """

    @property
    def current_version(self) -> int: ...

    async def wrap(self, data_key: bytes) -> WrappedKey: ...

    async def unwrap(self, wrapped: WrappedKey) -> bytes: ...

    def derive(self, purpose: str, version: int | None = None) -> bytes: ...

    def versions(self) -> list[int]: ...

    async def rotate(self) -> int: ...

    async def check(self) -> None: ...
