"""One behaviour for every ObjectStorage adapter.

Each entry of ADAPTERS builds a fresh, empty store for one test; adding a
backend (S3 against moto, say) is one more entry.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.contracts.conftest import MotoServer

from clinvault.storage import s3 as s3_adapter
from clinvault.storage.local import READ_CHUNK, TEMP_PREFIX, LocalStorage
from clinvault.storage.ports import KeyRejected, ObjectMissing, ObjectStorage
from clinvault.storage.s3 import MIN_PART_SIZE, S3Storage


@dataclass
class Adapter:
    storage: ObjectStorage
    max_read_chunk: int
    # Names of temp or partial artefacts the backend left behind, where observable.
    leftovers: Callable[[], list[str]]


def _local(tmp_path: Path) -> Adapter:
    root = tmp_path / "objects"

    def leftovers() -> list[str]:
        return sorted(str(p.relative_to(root)) for p in root.rglob(f"{TEMP_PREFIX}*"))

    return Adapter(LocalStorage(root), READ_CHUNK, leftovers)


def _s3(request: pytest.FixtureRequest) -> Adapter:
    """A fresh bucket on moto's S3 API, under a key prefix; parts at the S3 minimum."""
    server: MotoServer = request.getfixturevalue("moto_server")
    client = server.client("s3")
    bucket = server.new_bucket()

    def leftovers() -> list[str]:
        uploads = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
        return sorted(upload["Key"] for upload in uploads)

    storage = S3Storage(client, bucket, "tenant-data", part_size=MIN_PART_SIZE)
    return Adapter(storage, s3_adapter.READ_CHUNK, leftovers)


ADAPTERS = ("local", "s3")


@pytest.fixture(params=ADAPTERS)
def adapter(request: pytest.FixtureRequest, tmp_path: Path) -> Adapter:
    if request.param == "s3":
        return _s3(request)
    return _local(tmp_path)


@pytest.fixture
def storage(adapter: Adapter) -> ObjectStorage:
    return adapter.storage


async def _pieces(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def _read(storage: ObjectStorage, key: str) -> bytes:
    return b"".join([chunk async for chunk in storage.get(key)])


async def _keys(storage: ObjectStorage, prefix: str) -> list[str]:
    return [info.key async for info in storage.list(prefix)]


TRAVERSAL_KEYS = ["../x", "/abs", "a/../../b", "a\\b", "", "a\x00b", "a//b", "a/./b", "a/"]


@pytest.mark.asyncio
async def test_large_object_streams_in_and_out_in_bounded_chunks(
    adapter: Adapter, storage: ObjectStorage
) -> None:
    data = os.urandom(5 * 1024 * 1024 + 3)

    written = await storage.put("orgs/1/big.bin", _pieces(data, 4096))
    chunks = [chunk async for chunk in storage.get("orgs/1/big.bin")]

    assert written == len(data)
    assert b"".join(chunks) == data
    assert len(chunks) > 1
    assert all(0 < len(chunk) <= adapter.max_read_chunk for chunk in chunks)


@pytest.mark.asyncio
async def test_empty_object(storage: ObjectStorage) -> None:
    assert await storage.put("orgs/1/empty", _pieces(b"", 1)) == 0

    assert await storage.exists("orgs/1/empty")
    assert await _read(storage, "orgs/1/empty") == b""


@pytest.mark.asyncio
async def test_put_overwrites(storage: ObjectStorage) -> None:
    await storage.put("orgs/1/doc", _pieces(b"first version, longer", 3))
    await storage.put("orgs/1/doc", _pieces(b"second", 3))

    assert await _read(storage, "orgs/1/doc") == b"second"


@pytest.mark.asyncio
async def test_missing_object(storage: ObjectStorage) -> None:
    assert not await storage.exists("orgs/1/nothing")
    with pytest.raises(ObjectMissing):
        await _read(storage, "orgs/1/nothing")


@pytest.mark.asyncio
async def test_exists_and_delete_is_idempotent(storage: ObjectStorage) -> None:
    await storage.delete("orgs/1/never-stored")
    await storage.put("orgs/1/doc", _pieces(b"x", 1))
    assert await storage.exists("orgs/1/doc")

    await storage.delete("orgs/1/doc")
    await storage.delete("orgs/1/doc")

    assert not await storage.exists("orgs/1/doc")
    with pytest.raises(ObjectMissing):
        await _read(storage, "orgs/1/doc")


@pytest.mark.asyncio
async def test_a_key_prefix_is_not_an_object(storage: ObjectStorage) -> None:
    await storage.put("orgs/1/docs/a", _pieces(b"x", 1))

    assert not await storage.exists("orgs/1/docs")
    with pytest.raises(ObjectMissing):
        await _read(storage, "orgs/1/docs")
    await storage.delete("orgs/1/docs")
    assert await storage.exists("orgs/1/docs/a")


@pytest.mark.asyncio
async def test_list_by_prefix_is_sorted(storage: ObjectStorage) -> None:
    keys = ["orgs/1/b", "orgs/1/a", "orgs/1/sub/c", "orgs/1/a.txt", "orgs/2/a", "orgs/10/x"]
    for key in keys:
        await storage.put(key, _pieces(b"x", 1))

    assert await _keys(storage, "orgs/1/") == [
        "orgs/1/a",
        "orgs/1/a.txt",
        "orgs/1/b",
        "orgs/1/sub/c",
    ]
    assert await _keys(storage, "orgs/1/a") == ["orgs/1/a", "orgs/1/a.txt"]
    assert await _keys(storage, "orgs/1") == [
        "orgs/1/a",
        "orgs/1/a.txt",
        "orgs/1/b",
        "orgs/1/sub/c",
        "orgs/10/x",
    ]
    assert await _keys(storage, "") == sorted(keys)
    assert await _keys(storage, "orgs/3/") == []


@pytest.mark.asyncio
async def test_list_reports_size_and_modification_time(storage: ObjectStorage) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    await storage.put("orgs/1/a", _pieces(b"12345", 2))
    await storage.put("orgs/1/sub/b", _pieces(b"", 1))
    await storage.put("orgs/1/a", _pieces(b"1234567", 2))
    after = datetime.now(UTC) + timedelta(seconds=5)

    listed = [info async for info in storage.list("orgs/")]

    assert [(info.key, info.size) for info in listed] == [("orgs/1/a", 7), ("orgs/1/sub/b", 0)]
    for info in listed:
        assert info.modified_at.utcoffset() == timedelta(0)
        assert before <= info.modified_at <= after


@pytest.mark.asyncio
async def test_list_streams_many_objects_in_key_order(storage: ObjectStorage) -> None:
    keys = [f"orgs/{org}/docs/{n:04d}" for org in ("a", "a-b", "a.b", "b") for n in range(150)]
    keys += ["orgs/a/docs-x", "orgs/a/docs.txt", "orgs/a0"]
    for key in reversed(keys):
        await storage.put(key, _pieces(b"x", 1))

    assert await _keys(storage, "orgs/") == sorted(keys)
    assert await _keys(storage, "orgs/a/") == sorted(k for k in keys if k.startswith("orgs/a/"))

    first: list[str] = []
    async for info in storage.list("orgs/a"):
        first.append(info.key)
        if len(first) == 3:
            break
    assert first == ["orgs/a-b/docs/0000", "orgs/a-b/docs/0001", "orgs/a-b/docs/0002"]


@pytest.mark.asyncio
async def test_a_put_in_flight_is_not_listed(storage: ObjectStorage) -> None:
    await storage.put("orgs/1/done", _pieces(b"x", 1))
    started = asyncio.Event()

    async def stalled() -> AsyncIterator[bytes]:
        yield os.urandom(400_000)
        started.set()
        await asyncio.Event().wait()
        yield b"never"

    task = asyncio.create_task(storage.put("orgs/1/pending", stalled()))
    await started.wait()
    await asyncio.sleep(0.05)
    try:
        assert await _keys(storage, "") == ["orgs/1/done"]
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


@pytest.mark.asyncio
@pytest.mark.parametrize("key", TRAVERSAL_KEYS)
async def test_unsafe_keys_are_rejected_by_every_operation(
    adapter: Adapter, storage: ObjectStorage, key: str
) -> None:
    with pytest.raises(KeyRejected):
        await storage.put(key, _pieces(b"x", 1))
    with pytest.raises(KeyRejected):
        await _read(storage, key)
    with pytest.raises(KeyRejected):
        await storage.exists(key)
    with pytest.raises(KeyRejected):
        await storage.delete(key)
    assert await _keys(storage, "") == []
    assert adapter.leftovers() == []


@pytest.mark.asyncio
@pytest.mark.parametrize("prefix", ["../", "/abs", "a/../b/", "a\\b"])
async def test_unsafe_list_prefixes_are_rejected(storage: ObjectStorage, prefix: str) -> None:
    with pytest.raises(KeyRejected):
        await _keys(storage, prefix)


async def _failing_stream(data: bytes) -> AsyncIterator[bytes]:
    yield data
    yield data
    raise RuntimeError("upload connection dropped")


@pytest.mark.asyncio
async def test_failing_input_leaves_no_object(adapter: Adapter, storage: ObjectStorage) -> None:
    with pytest.raises(RuntimeError, match="dropped"):
        await storage.put("orgs/1/doc", _failing_stream(os.urandom(300_000)))

    assert not await storage.exists("orgs/1/doc")
    assert await _keys(storage, "") == []
    assert adapter.leftovers() == []


@pytest.mark.asyncio
async def test_failing_overwrite_keeps_the_previous_object(
    adapter: Adapter, storage: ObjectStorage
) -> None:
    await storage.put("orgs/1/doc", _pieces(b"original", 2))

    with pytest.raises(RuntimeError):
        await storage.put("orgs/1/doc", _failing_stream(b"replacement"))

    assert await _read(storage, "orgs/1/doc") == b"original"
    assert adapter.leftovers() == []


@pytest.mark.asyncio
async def test_cancelled_put_leaves_nothing_and_is_never_visible(
    adapter: Adapter, storage: ObjectStorage
) -> None:
    started = asyncio.Event()

    async def stalled() -> AsyncIterator[bytes]:
        yield os.urandom(400_000)
        started.set()
        await asyncio.Event().wait()
        yield b"never"

    task = asyncio.create_task(storage.put("orgs/1/doc", stalled()))
    await started.wait()
    await asyncio.sleep(0.05)
    assert not await storage.exists("orgs/1/doc")

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert not await storage.exists("orgs/1/doc")
    assert adapter.leftovers() == []


@pytest.mark.asyncio
async def test_check_passes(storage: ObjectStorage) -> None:
    await storage.check()
