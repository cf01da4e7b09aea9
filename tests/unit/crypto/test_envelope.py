from __future__ import annotations

import asyncio
import os
import struct
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinvault.crypto.envelope import (
    DEFAULT_CHUNK_SIZE,
    EnvelopeCipher,
    decrypt_stream,
    encrypt_stream,
    new_data_key,
)
from clinvault.crypto.errors import IntegrityError
from clinvault.crypto.keyring import LocalKeyring

CHUNK = 256
HEADER_SIZE = 16
TAG = 16


async def _pieces(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), max(size, 1)):
        yield data[start : start + size]


async def _collect(stream: AsyncIterable[bytes]) -> bytes:
    return b"".join([chunk async for chunk in stream])


async def _encrypt(data: bytes, key: bytes, chunk_size: int = CHUNK, piece: int = 100) -> bytes:
    return await _collect(encrypt_stream(_pieces(data, piece), key, chunk_size=chunk_size))


async def _decrypt(blob: bytes, key: bytes, piece: int = 333) -> bytes:
    return await _collect(decrypt_stream(_pieces(blob, piece), key))


def _split(blob: bytes) -> tuple[bytes, list[bytes]]:
    """Header and whole frames (length prefix included), read by the documented format."""
    header, rest, frames = blob[:HEADER_SIZE], blob[HEADER_SIZE:], []
    while rest:
        (length,) = struct.unpack(">I", rest[:4])
        frames.append(rest[: 4 + length])
        rest = rest[4 + length :]
    return header, frames


@pytest.fixture
def key() -> bytes:
    return new_data_key()


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 7, 10_000]
)
async def test_round_trip_at_chunk_boundaries(key: bytes, size: int) -> None:
    data = os.urandom(size)

    blob = await _encrypt(data, key)

    assert await _decrypt(blob, key) == data
    header, frames = _split(blob)
    assert header[:4] == b"CVE1"
    assert struct.unpack(">I", header[4:8]) == (CHUNK,)
    assert len(frames) == max(1, -(-size // CHUNK))


@pytest.mark.asyncio
async def test_round_trip_of_several_megabytes_with_default_chunks(key: bytes) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)

    blob = await _encrypt(data, key, chunk_size=DEFAULT_CHUNK_SIZE, piece=10_007)
    chunks = [c async for c in decrypt_stream(_pieces(blob, 50_000), key)]

    assert b"".join(chunks) == data
    assert all(len(chunk) <= DEFAULT_CHUNK_SIZE for chunk in chunks)
    assert len(blob) == len(data) + HEADER_SIZE + len(chunks) * (4 + TAG)


@pytest.mark.asyncio
async def test_one_huge_input_piece_is_cut_into_bounded_frames(key: bytes) -> None:
    data = os.urandom(40 * CHUNK + 3)

    frames = [f async for f in encrypt_stream(_pieces(data, len(data)), key, chunk_size=CHUNK)]

    assert max(len(frame) for frame in frames) == 4 + CHUNK + TAG


@given(
    data=st.binary(max_size=3000),
    chunk_size=st.integers(min_value=1, max_value=700),
    piece=st.integers(min_value=1, max_value=900),
    cipher_piece=st.integers(min_value=1, max_value=900),
)
@settings(max_examples=150, deadline=None)
def test_round_trip_for_any_size_and_chunking(
    data: bytes, chunk_size: int, piece: int, cipher_piece: int
) -> None:
    key = new_data_key()

    async def scenario() -> bytes:
        blob = await _encrypt(data, key, chunk_size=chunk_size, piece=piece)
        return await _decrypt(blob, key, piece=cipher_piece)

    assert asyncio.run(scenario()) == data


@pytest.mark.asyncio
async def test_encryption_is_randomised(key: bytes) -> None:
    assert await _encrypt(b"same", key) != await _encrypt(b"same", key)


@pytest.mark.asyncio
async def test_every_flipped_byte_is_detected(key: bytes) -> None:
    blob = await _encrypt(os.urandom(2 * CHUNK + 10), key, chunk_size=CHUNK)

    for position in range(len(blob)):
        tampered = bytearray(blob)
        tampered[position] ^= 0x01
        with pytest.raises(IntegrityError):
            await _decrypt(bytes(tampered), key)


def _join(header: bytes, frames: list[bytes]) -> bytes:
    return header + b"".join(frames)


@pytest.mark.asyncio
async def test_dropped_chunk_is_detected(key: bytes) -> None:
    header, frames = _split(await _encrypt(os.urandom(4 * CHUNK + 1), key))

    with pytest.raises(IntegrityError):
        await _decrypt(_join(header, frames[:1] + frames[2:]), key)


@pytest.mark.asyncio
async def test_swapped_chunks_are_detected(key: bytes) -> None:
    header, frames = _split(await _encrypt(os.urandom(4 * CHUNK + 1), key))

    with pytest.raises(IntegrityError):
        await _decrypt(_join(header, [frames[1], frames[0], *frames[2:]]), key)


@pytest.mark.asyncio
async def test_truncation_at_a_frame_boundary_is_detected(key: bytes) -> None:
    data = os.urandom(3 * CHUNK + 5)
    header, frames = _split(await _encrypt(data, key))
    received = bytearray()

    async def consume() -> None:
        async for chunk in decrypt_stream(_pieces(_join(header, frames[:-1]), 64), key):
            received.extend(chunk)

    with pytest.raises(IntegrityError):
        await consume()

    # The cut-off last frame is never released: it cannot be verified as final.
    assert bytes(received) == data[: 2 * CHUNK]


@pytest.mark.asyncio
@pytest.mark.parametrize("cut", [1, 4, 17, 100])
async def test_truncated_tail_is_detected(key: bytes, cut: int) -> None:
    blob = await _encrypt(os.urandom(3 * CHUNK + 5), key)

    with pytest.raises(IntegrityError):
        await _decrypt(blob[:-cut], key)


@pytest.mark.asyncio
@pytest.mark.parametrize("extra", [b"\x00", b"\x00\x00\x00\x10", bytes(range(64))])
async def test_appended_bytes_are_detected(key: bytes, extra: bytes) -> None:
    blob = await _encrypt(os.urandom(2 * CHUNK), key)

    with pytest.raises(IntegrityError):
        await _decrypt(blob + extra, key)


@pytest.mark.asyncio
async def test_appended_copy_of_the_final_frame_is_detected(key: bytes) -> None:
    header, frames = _split(await _encrypt(os.urandom(2 * CHUNK + 3), key))

    with pytest.raises(IntegrityError):
        await _decrypt(_join(header, [*frames, frames[-1]]), key)


@pytest.mark.asyncio
async def test_frames_from_another_stream_are_detected(key: bytes) -> None:
    header_a, frames_a = _split(await _encrypt(os.urandom(2 * CHUNK + 3), key))
    _, frames_b = _split(await _encrypt(os.urandom(2 * CHUNK + 3), key))

    with pytest.raises(IntegrityError):
        await _decrypt(_join(header_a, [frames_a[0], frames_b[1], frames_a[2]]), key)


@pytest.mark.asyncio
@pytest.mark.parametrize("blob", [b"", b"CVE1", b"XXXX" + bytes(12), b"CVE1" + bytes(12)])
async def test_empty_or_foreign_input_is_rejected(key: bytes, blob: bytes) -> None:
    with pytest.raises(IntegrityError):
        await _decrypt(blob, key)


@pytest.mark.asyncio
async def test_oversized_chunk_size_in_header_is_rejected_before_reading(key: bytes) -> None:
    header = b"CVE1" + struct.pack(">I", 2**31) + bytes(8)

    with pytest.raises(IntegrityError, match="chunk size"):
        await _decrypt(header + struct.pack(">I", 2**31), key)


@pytest.mark.asyncio
async def test_wrong_key_fails(key: bytes) -> None:
    blob = await _encrypt(b"secret", key)

    with pytest.raises(IntegrityError):
        await _decrypt(blob, new_data_key())


def test_invalid_arguments_are_refused(key: bytes) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        encrypt_stream(_pieces(b"", 1), b"short")
    with pytest.raises(ValueError, match="32 bytes"):
        decrypt_stream(_pieces(b"", 1), b"short")
    with pytest.raises(ValueError, match="chunk_size"):
        encrypt_stream(_pieces(b"", 1), key, chunk_size=0)


@pytest.mark.asyncio
async def test_envelope_cipher_wraps_a_fresh_key_per_stream(tmp_path: Path) -> None:
    cipher = EnvelopeCipher(LocalKeyring(tmp_path / "keyring.json"), chunk_size=CHUNK)
    data = os.urandom(5 * CHUNK)

    wrapped_a, stream_a = await cipher.encrypt(_pieces(data, 1000))
    blob_a = await _collect(stream_a)
    wrapped_b, stream_b = await cipher.encrypt(_pieces(data, 1000))
    blob_b = await _collect(stream_b)

    assert wrapped_a.blob != wrapped_b.blob
    assert await _collect(await cipher.decrypt(_pieces(blob_a, 77), wrapped_a)) == data
    with pytest.raises(IntegrityError):
        await _collect(await cipher.decrypt(_pieces(blob_b, 77), wrapped_a))


@pytest.mark.asyncio
async def test_closing_the_decryption_early_closes_the_source(key: bytes) -> None:
    blob = await _encrypt(os.urandom(10 * CHUNK), key)
    closed = False

    async def source() -> AsyncIterator[bytes]:
        nonlocal closed
        try:
            async for piece in _pieces(blob, 100):
                yield piece
        finally:
            closed = True

    stream = decrypt_stream(source(), key)
    await anext(stream)
    await stream.aclose()

    assert closed
