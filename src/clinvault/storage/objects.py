"""Encrypted objects: envelope encryption over `ObjectStorage` plus a plaintext checksum."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import AsyncGenerator, AsyncIterable
from contextlib import aclosing
from dataclasses import dataclass

from clinvault.crypto.envelope import DEFAULT_CHUNK_SIZE, EnvelopeCipher
from clinvault.crypto.errors import IntegrityError
from clinvault.crypto.ports import KeyProvider, WrappedKey
from clinvault.storage.ports import ObjectStorage

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


# Ingest files move between these stages by copying their ciphertext unchanged
# (clinvault.ingest.storage.STAGES), so the stage is no part of the object's name.
INGEST_STAGES = frozenset({"uploaded", "processing", "completed", "failed"})


def object_context(key: str) -> dict[str, str]:
    """The key context binding an object's data key to its tenant and its name.

    The name is the storage key, with an ingest stage segment replaced by "*".
    """
    segments = key.split("/")
    organization = segments[1] if len(segments) > 2 and segments[0] == "orgs" else "-"
    if len(segments) > 4 and segments[2] == "ingest" and segments[3] in INGEST_STAGES:
        segments[3] = "*"
    return {"organization": organization, "object": "/".join(segments)}


@dataclass(frozen=True, slots=True)
class StoredObject:
    """What the metadata row keeps to read the object back (see models.EncryptedObject)."""

    wrapped_key: bytes
    key_version: int
    plaintext_size: int
    sha256: str
    ciphertext_size: int

    @property
    def wrapped(self) -> WrappedKey:
        return WrappedKey(version=self.key_version, blob=self.wrapped_key)


class EncryptedObjectStore:
    """Each object is encrypted under its own data key, wrapped by the key provider.

    Key rotation re-wraps data keys (`rewrap`); stored objects are never
    re-encrypted.
    """

    def __init__(
        self,
        storage: ObjectStorage,
        keys: KeyProvider,
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> None:
        self._storage = storage
        self._keys = keys
        self._cipher = EnvelopeCipher(keys, chunk_size=chunk_size)

    @property
    def storage(self) -> ObjectStorage:
        return self._storage

    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> StoredObject:
        """Encrypt and store the stream, hashing the plaintext on the way through."""
        digest = hashlib.sha256()
        plaintext_size = 0

        async def measured() -> AsyncGenerator[bytes, None]:
            nonlocal plaintext_size
            async for chunk in chunks:
                digest.update(chunk)
                plaintext_size += len(chunk)
                yield chunk

        wrapped, ciphertext = await self._cipher.encrypt(measured(), object_context(key))
        ciphertext_size = await self._storage.put(key, ciphertext)
        return StoredObject(
            wrapped_key=wrapped.blob,
            key_version=wrapped.version,
            plaintext_size=plaintext_size,
            sha256=digest.hexdigest(),
            ciphertext_size=ciphertext_size,
        )

    def get(
        self, key: str, wrapped: WrappedKey, expected_sha256: str | None = None
    ) -> AsyncGenerator[bytes, None]:
        """Stream the decrypted object.

        Raises `IntegrityError` on tampering, truncation or, when
        `expected_sha256` is given, a checksum mismatch. The last chunk is
        held back until every check has passed, so a consumer never receives
        the complete object unless it is intact.
        """
        expected = None
        if expected_sha256 is not None:
            expected = expected_sha256.lower()
            if not _SHA256_HEX.fullmatch(expected):
                raise ValueError("expected_sha256 must be 64 hexadecimal characters")
        return self._read(key, wrapped, expected)

    async def open(
        self, key: str, wrapped: WrappedKey, expected_sha256: str | None = None
    ) -> AsyncGenerator[bytes, None]:
        """`get`, with the first chunk already read before this returns.

        A download calls this before its response starts, so a storage or key
        service outage is still a 503 problem rather than a response cut short.
        """
        stream = self.get(key, wrapped, expected_sha256)
        try:
            first: bytes | None = await anext(stream)
        except StopAsyncIteration:
            first = None
        except BaseException:
            await stream.aclose()
            raise
        return _resume(first, stream)

    async def rewrap(self, wrapped: WrappedKey, key: str | None = None) -> WrappedKey:
        """The same data key wrapped under the current key version (unchanged if already).

        `key` is the object's storage key, which the wrapped key is bound to.
        """
        if wrapped.version == self._keys.current_version:
            return wrapped
        context = None if key is None else object_context(key)
        return await self._keys.wrap(await self._keys.unwrap(wrapped, context), context)

    async def exists(self, key: str) -> bool:
        return await self._storage.exists(key)

    async def delete(self, key: str) -> None:
        await self._storage.delete(key)

    async def _read(
        self, key: str, wrapped: WrappedKey, expected: str | None
    ) -> AsyncGenerator[bytes, None]:
        digest = hashlib.sha256()
        held: bytes | None = None
        stream = await self._cipher.decrypt(self._storage.get(key), wrapped, object_context(key))
        async with aclosing(stream) as plain:
            async for chunk in plain:
                digest.update(chunk)
                if held is not None:
                    yield held
                held = chunk
        if expected is not None and not hmac.compare_digest(digest.hexdigest(), expected):
            raise IntegrityError(f"object {key!r} does not match its recorded SHA-256")
        if held is not None:
            yield held


async def _resume(
    first: bytes | None, rest: AsyncGenerator[bytes, None]
) -> AsyncGenerator[bytes, None]:
    async with aclosing(rest):
        if first is not None:
            yield first
        async for chunk in rest:
            yield chunk
