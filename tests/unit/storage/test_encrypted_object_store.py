from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from clinvault.crypto.errors import IntegrityError
from clinvault.crypto.keyring import LocalKeyring
from clinvault.storage.local import LocalStorage
from clinvault.storage.objects import EncryptedObjectStore, StoredObject
from clinvault.storage.ports import ObjectMissing

CHUNK = 1024


async def _pieces(data: bytes, size: int = 700) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def _read(store: EncryptedObjectStore, key: str, stored: StoredObject) -> bytes:
    return b"".join([chunk async for chunk in store.get(key, stored.wrapped, stored.sha256)])


@pytest.fixture
def keyring(tmp_path: Path) -> LocalKeyring:
    return LocalKeyring(tmp_path / "keys" / "keyring.json")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "objects"


@pytest.fixture
def store(root: Path, keyring: LocalKeyring) -> EncryptedObjectStore:
    return EncryptedObjectStore(LocalStorage(root), keyring, chunk_size=CHUNK)


@pytest.mark.asyncio
@pytest.mark.parametrize("size", [0, 1, CHUNK, 5 * CHUNK + 3, 300_000])
async def test_round_trip_records_sizes_and_checksum(
    store: EncryptedObjectStore, root: Path, size: int
) -> None:
    data = os.urandom(size)

    stored = await store.put("orgs/1/doc", _pieces(data))

    assert stored.plaintext_size == size
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.key_version == 1
    assert stored.ciphertext_size == (root / "orgs/1/doc").stat().st_size
    assert stored.ciphertext_size > size
    assert await _read(store, "orgs/1/doc", stored) == data


@pytest.mark.asyncio
async def test_plaintext_never_reaches_storage(store: EncryptedObjectStore, root: Path) -> None:
    marker = b"PATIENT-NAME-ADA-LOVELACE"

    await store.put("orgs/1/doc", _pieces(marker * 200))

    assert marker not in (root / "orgs/1/doc").read_bytes()


@pytest.mark.asyncio
async def test_each_object_gets_its_own_data_key(store: EncryptedObjectStore) -> None:
    a = await store.put("orgs/1/a", _pieces(b"same"))
    b = await store.put("orgs/1/b", _pieces(b"same"))

    assert a.wrapped_key != b.wrapped_key
    with pytest.raises(IntegrityError):
        [chunk async for chunk in store.get("orgs/1/a", b.wrapped)]


@pytest.mark.asyncio
async def test_checksum_mismatch_is_detected_and_the_end_is_withheld(
    store: EncryptedObjectStore,
) -> None:
    data = os.urandom(4 * CHUNK)
    stored = await store.put("orgs/1/doc", _pieces(data))
    received = bytearray()

    async def consume() -> None:
        async for chunk in store.get("orgs/1/doc", stored.wrapped, "0" * 64):
            received.extend(chunk)

    with pytest.raises(IntegrityError, match="SHA-256"):
        await consume()

    assert len(received) < len(data)


@pytest.mark.asyncio
async def test_checksum_is_optional_and_case_insensitive(store: EncryptedObjectStore) -> None:
    stored = await store.put("orgs/1/doc", _pieces(b"hello"))

    assert b"".join([c async for c in store.get("orgs/1/doc", stored.wrapped)]) == b"hello"
    upper = stored.sha256.upper()
    assert b"".join([c async for c in store.get("orgs/1/doc", stored.wrapped, upper)]) == b"hello"


def test_malformed_expected_checksum_is_refused(store: EncryptedObjectStore) -> None:
    stored = StoredObject(b"", 1, 0, "", 0)

    with pytest.raises(ValueError, match="64 hexadecimal"):
        store.get("orgs/1/doc", stored.wrapped, "abc")


@pytest.mark.asyncio
async def test_tampered_ciphertext_is_detected(store: EncryptedObjectStore, root: Path) -> None:
    stored = await store.put("orgs/1/doc", _pieces(os.urandom(3 * CHUNK)))
    path = root / "orgs/1/doc"
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x80
    path.write_bytes(bytes(raw))

    with pytest.raises(IntegrityError):
        await _read(store, "orgs/1/doc", stored)


@pytest.mark.asyncio
async def test_missing_object_raises(store: EncryptedObjectStore) -> None:
    stored = await store.put("orgs/1/doc", _pieces(b"x"))
    await store.delete("orgs/1/doc")

    assert not await store.exists("orgs/1/doc")
    with pytest.raises(ObjectMissing):
        await _read(store, "orgs/1/doc", stored)


@pytest.mark.asyncio
async def test_failed_input_stores_nothing(store: EncryptedObjectStore, root: Path) -> None:
    async def failing() -> AsyncIterator[bytes]:
        yield os.urandom(10 * CHUNK)
        raise RuntimeError("client went away")

    with pytest.raises(RuntimeError, match="went away"):
        await store.put("orgs/1/doc", failing())

    assert not await store.exists("orgs/1/doc")
    assert [p for p in root.rglob("*") if p.is_file()] == []


@pytest.mark.asyncio
async def test_rewrap_after_rotation_keeps_the_object_readable(
    store: EncryptedObjectStore, keyring: LocalKeyring, root: Path
) -> None:
    data = os.urandom(3 * CHUNK + 5)
    stored = await store.put("orgs/1/doc", _pieces(data))
    ciphertext = (root / "orgs/1/doc").read_bytes()

    await keyring.rotate()
    rewrapped = await store.rewrap(stored.wrapped)

    assert rewrapped.version == 2
    assert rewrapped.blob != stored.wrapped_key
    assert (root / "orgs/1/doc").read_bytes() == ciphertext
    chunks = [c async for c in store.get("orgs/1/doc", rewrapped, stored.sha256)]
    assert b"".join(chunks) == data
    assert await _read(store, "orgs/1/doc", stored) == data
    assert await store.rewrap(rewrapped) is rewrapped
