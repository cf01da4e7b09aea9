"""The key-provider port: wraps data keys and derives purpose keys."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

# What a data key is bound to: {"organization": ..., "object": ...}. A provider that
# supports it (KMS) refuses to unwrap under any other context; the local keyring
# accepts and ignores it.
KeyContext = Mapping[str, str]


@dataclass(frozen=True, slots=True)
class WrappedKey:
    version: int
    blob: bytes


class KeyProvider(Protocol):
    """Keeps key-encryption keys away from the data they protect.

    `wrap`/`unwrap` protect per-object data keys (envelope encryption);
    `derive` returns a 32-byte key for one purpose ("field", "blind-index",
    "audit", "token") at a version (current when None).

    `new_data_key` returns a fresh 32-byte data key with its wrapped form
    (KMS: one GenerateDataKey call). `check` raises naming what to fix; a
    provider that cannot be reached raises an error that is also a 503
    `AppError` with Retry-After, never falling back to anything.
    """

    @property
    def current_version(self) -> int: ...

    async def new_data_key(self, context: KeyContext | None = None) -> tuple[bytes, WrappedKey]: ...

    async def wrap(self, data_key: bytes, context: KeyContext | None = None) -> WrappedKey: ...

    async def unwrap(self, wrapped: WrappedKey, context: KeyContext | None = None) -> bytes: ...

    def derive(self, purpose: str, version: int | None = None) -> bytes: ...

    def versions(self) -> list[int]: ...

    async def rotate(self) -> int: ...

    async def check(self) -> None: ...
