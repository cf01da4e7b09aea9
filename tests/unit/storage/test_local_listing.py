"""What only a local directory can get wrong when listed: symlinks, stray files, descriptors."""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from clinvault.storage.listing import BATCH
from clinvault.storage.local import TEMP_PREFIX, LocalStorage
from clinvault.storage.ports import StoredObjectInfo


async def _pieces(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _listed(storage: LocalStorage, prefix: str = "") -> list[StoredObjectInfo]:
    return [info async for info in storage.list(prefix)]


def _open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "objects"


@pytest.fixture
def storage(root: Path) -> LocalStorage:
    return LocalStorage(root)


@pytest.mark.asyncio
async def test_a_missing_root_lists_nothing(storage: LocalStorage) -> None:
    assert await _listed(storage) == []
    assert await _listed(storage, "orgs/1/") == []


@pytest.mark.asyncio
async def test_symlinks_inside_the_root_are_not_followed(storage: LocalStorage, root: Path) -> None:
    await storage.put("orgs/1/a", _pieces(b"x"))
    (root / "orgs" / "alias").symlink_to(root / "orgs" / "1")
    (root / "orgs" / "1" / "b").symlink_to(root / "orgs" / "1" / "a")
    os.mkfifo(root / "orgs" / "1" / "pipe")

    assert [info.key for info in await _listed(storage)] == ["orgs/1/a"]
    assert await _listed(storage, "orgs/alias/") == []
    assert await _listed(storage, "orgs/alias/a") == []


@pytest.mark.asyncio
async def test_temp_names_are_skipped_at_every_depth(storage: LocalStorage, root: Path) -> None:
    await storage.put("orgs/1/a", _pieces(b"x"))
    (root / f"{TEMP_PREFIX}top").write_bytes(b"partial")
    (root / "orgs" / f"{TEMP_PREFIX}dir").mkdir()
    (root / "orgs" / f"{TEMP_PREFIX}dir" / "inner").write_bytes(b"partial")

    assert [info.key for info in await _listed(storage)] == ["orgs/1/a"]
    assert await _listed(storage, f"orgs/{TEMP_PREFIX}dir/") == []


@pytest.mark.asyncio
async def test_modification_time_is_the_files(storage: LocalStorage, root: Path) -> None:
    await storage.put("orgs/1/a", _pieces(b"abc"))
    old = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    os.utime(root / "orgs" / "1" / "a", (old.timestamp(), old.timestamp()))

    assert await _listed(storage) == [StoredObjectInfo("orgs/1/a", 3, old)]


@pytest.mark.asyncio
async def test_an_abandoned_listing_closes_its_directories(storage: LocalStorage) -> None:
    for n in range(BATCH + 10):
        await storage.put(f"orgs/1/deep/er/{n:04d}", _pieces(b"x"))
    baseline = _open_descriptors()

    listing = storage.list("orgs/")
    first = await anext(listing)
    assert first.key == "orgs/1/deep/er/0000"
    assert _open_descriptors() > baseline

    assert isinstance(listing, AsyncGenerator)
    await listing.aclose()
    assert _open_descriptors() == baseline
