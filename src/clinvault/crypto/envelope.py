"""Streaming envelope encryption: AES-256-GCM over fixed-size chunks.

Format (integers big-endian)::

    header = b"CVE1" | chunk_size:u32 | stream_prefix:8 bytes          (16 bytes)
    frame  = length:u32 | AES-256-GCM(chunk): ciphertext + 16-byte tag

Chunk i (from 0) is sealed with nonce = stream_prefix | i:u32 and associated
data = header | i:u32 | final:u8. Every chunk but the last holds exactly
`chunk_size` plaintext bytes; the last holds 0..chunk_size bytes and is the only
one flagged final, so an empty plaintext still yields one frame. The counter
detects reordered or dropped frames, the final flag detects truncation at a
frame boundary and anything appended after the end, and the header in the
associated data pins the chunk size.

Each object gets its own data key, so the 64-bit random prefix only has to keep
nonces apart should a key ever be reused for a handful of streams.
"""

from __future__ import annotations

import os
import struct
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from clinvault.crypto.errors import IntegrityError
from clinvault.crypto.ports import KeyContext, KeyProvider, WrappedKey

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "MAX_CHUNK_SIZE",
    "EnvelopeCipher",
    "IntegrityError",
    "StreamSealer",
    "decrypt_stream",
    "encrypt_stream",
    "new_data_key",
]

MAGIC = b"CVE1"
DATA_KEY_BYTES = 32
TAG_BYTES = 16
DEFAULT_CHUNK_SIZE = 64 * 1024
MAX_CHUNK_SIZE = 16 * 1024 * 1024
_MAX_CHUNKS = 2**32
_HEADER = struct.Struct(">4sI8s")
_LENGTH = struct.Struct(">I")
_COUNTER = struct.Struct(">I")


def new_data_key() -> bytes:
    """A fresh random 256-bit data key."""
    return os.urandom(DATA_KEY_BYTES)


def encrypt_stream(
    chunks: AsyncIterable[bytes], data_key: bytes, *, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> AsyncGenerator[bytes, None]:
    """Encrypt a stream of any chunking; memory stays within about two chunks."""
    _check_data_key(data_key)
    if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
        raise ValueError(f"chunk_size must be between 1 and {MAX_CHUNK_SIZE}")
    return _encrypt(chunks, AESGCM(data_key), chunk_size)


def decrypt_stream(chunks: AsyncIterable[bytes], data_key: bytes) -> AsyncGenerator[bytes, None]:
    """Decrypt a stream made by `encrypt_stream`, raising `IntegrityError` on tampering.

    Each yielded chunk is authenticated, but truncation is only known at the
    end: treat the output as trustworthy once the iterator finishes without
    raising. The last chunk is released only after the end has been verified.
    """
    _check_data_key(data_key)
    return _decrypt(chunks, AESGCM(data_key))


class EnvelopeCipher:
    """Encrypts each stream under a fresh data key wrapped by the key provider."""

    def __init__(self, keys: KeyProvider, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        self._keys = keys
        self._chunk_size = chunk_size

    async def encrypt(
        self, chunks: AsyncIterable[bytes], context: KeyContext | None = None
    ) -> tuple[WrappedKey, AsyncGenerator[bytes, None]]:
        data_key, wrapped = await self._keys.new_data_key(context)
        return wrapped, encrypt_stream(chunks, data_key, chunk_size=self._chunk_size)

    async def decrypt(
        self, chunks: AsyncIterable[bytes], wrapped: WrappedKey, context: KeyContext | None = None
    ) -> AsyncGenerator[bytes, None]:
        return decrypt_stream(chunks, await self._keys.unwrap(wrapped, context))


class StreamSealer:
    """`encrypt_stream` for synchronous writers: feed bytes as they arrive, same format.

    `update` returns the frames that became complete (the header with the first
    call), `finish` the final frame; a sealer is used for one stream only.
    """

    def __init__(self, data_key: bytes, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        _check_data_key(data_key)
        if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
            raise ValueError(f"chunk_size must be between 1 and {MAX_CHUNK_SIZE}")
        self._aead = AESGCM(data_key)
        self._chunk_size = chunk_size
        self._header = _HEADER.pack(MAGIC, chunk_size, os.urandom(8))
        self._pending_header = True
        self._counter = 0
        self._buffer = bytearray()
        self._finished = False

    def _take_header(self) -> bytes:
        if not self._pending_header:
            return b""
        self._pending_header = False
        return self._header

    def _seal(self, data: bytes | memoryview, final: bool) -> bytes:
        if self._counter >= _MAX_CHUNKS - (0 if final else 1):
            raise ValueError("stream too long for one envelope")
        sealed = self._aead.encrypt(
            _nonce(self._header, self._counter),
            data,
            _associated_data(self._header, self._counter, final=final),
        )
        self._counter += 1
        return _LENGTH.pack(len(sealed)) + sealed

    def update(self, data: bytes) -> bytes:
        if self._finished:
            raise ValueError("the stream is already finished")
        out = bytearray(self._take_header())
        self._buffer += data
        # A full chunk is only known not to be the last once more data exists.
        size = self._chunk_size
        while len(self._buffer) > size:
            with memoryview(self._buffer) as view:
                out += self._seal(view[:size], final=False)
            del self._buffer[:size]
        return bytes(out)

    def finish(self) -> bytes:
        if self._finished:
            raise ValueError("the stream is already finished")
        self._finished = True
        out = self._take_header() + self._seal(bytes(self._buffer), final=True)
        self._buffer.clear()
        return out


def _check_data_key(data_key: bytes) -> None:
    if len(data_key) != DATA_KEY_BYTES:
        raise ValueError(f"data key must be {DATA_KEY_BYTES} bytes")


def _associated_data(header: bytes, counter: int, final: bool) -> bytes:
    return header + _COUNTER.pack(counter) + (b"\x01" if final else b"\x00")


def _nonce(header: bytes, counter: int) -> bytes:
    return header[-8:] + _COUNTER.pack(counter)


async def _encrypt(
    chunks: AsyncIterable[bytes], aead: AESGCM, chunk_size: int
) -> AsyncGenerator[bytes, None]:
    header = _HEADER.pack(MAGIC, chunk_size, os.urandom(8))
    yield header
    counter = 0
    buffer = bytearray()
    source = aiter(chunks)
    try:
        async for piece in source:
            buffer += piece
            # A full chunk is only known not to be the last once more data exists.
            while len(buffer) > chunk_size:
                if counter + 1 >= _MAX_CHUNKS:
                    raise ValueError("stream too long for one envelope")
                with memoryview(buffer) as view:
                    sealed = aead.encrypt(
                        _nonce(header, counter),
                        view[:chunk_size],
                        _associated_data(header, counter, final=False),
                    )
                del buffer[:chunk_size]
                yield _LENGTH.pack(len(sealed)) + sealed
                counter += 1
    finally:
        await _aclose(source)
    sealed = aead.encrypt(
        _nonce(header, counter), bytes(buffer), _associated_data(header, counter, final=True)
    )
    yield _LENGTH.pack(len(sealed)) + sealed


async def _decrypt(chunks: AsyncIterable[bytes], aead: AESGCM) -> AsyncGenerator[bytes, None]:
    reader = _Reader(chunks)
    try:
        header = await reader.read(_HEADER.size)
        if len(header) < _HEADER.size:
            raise IntegrityError("encrypted stream is truncated: incomplete header")
        magic, chunk_size, _prefix = _HEADER.unpack(header)
        if magic != MAGIC:
            raise IntegrityError("not an encrypted stream: bad magic")
        if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
            raise IntegrityError("encrypted stream header declares an invalid chunk size")
        counter = 0
        length_field = await reader.read(_LENGTH.size)
        while True:
            if len(length_field) < _LENGTH.size:
                raise IntegrityError("encrypted stream is truncated before its final chunk")
            if counter >= _MAX_CHUNKS:
                raise IntegrityError("encrypted stream has too many chunks")
            (length,) = _LENGTH.unpack(length_field)
            if not TAG_BYTES <= length <= chunk_size + TAG_BYTES:
                raise IntegrityError(f"chunk {counter} declares an invalid length")
            sealed = await reader.read(length)
            if len(sealed) < length:
                raise IntegrityError(f"encrypted stream is truncated inside chunk {counter}")
            length_field = await reader.read(_LENGTH.size)
            # The final chunk is whichever one nothing follows; its flag is
            # authenticated, so a cut or an extension fails to decrypt.
            final = not length_field
            if not final and length != chunk_size + TAG_BYTES:
                raise IntegrityError(f"chunk {counter} is short but is not the last")
            try:
                plaintext = aead.decrypt(
                    _nonce(header, counter), sealed, _associated_data(header, counter, final)
                )
            except InvalidTag:
                raise IntegrityError(f"chunk {counter} failed authentication") from None
            yield plaintext
            if final:
                return
            counter += 1
    finally:
        await reader.aclose()


class _Reader:
    """Exact-size reads over an async byte stream, buffering at most one read."""

    def __init__(self, chunks: AsyncIterable[bytes]) -> None:
        self._source = aiter(chunks)
        self._buffer = bytearray()
        self._eof = False

    async def read(self, size: int) -> bytes:
        """Up to `size` bytes; fewer only at the end of the stream."""
        while len(self._buffer) < size and not self._eof:
            try:
                self._buffer += await anext(self._source)
            except StopAsyncIteration:
                self._eof = True
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    async def aclose(self) -> None:
        await _aclose(self._source)


async def _aclose(iterator: AsyncIterator[bytes]) -> None:
    close = getattr(iterator, "aclose", None)
    if close is not None:
        await close()
