from __future__ import annotations

import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from clinvault.storage.factory import open_storage
from clinvault.storage.local import READ_CHUNK, TEMP_PREFIX, LocalStorage
from clinvault.storage.ports import KeyRejected, StorageError


async def _pieces(data: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def _read(storage: LocalStorage, key: str) -> bytes:
    return b"".join([chunk async for chunk in storage.get(key)])


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _temp_files(root: Path) -> list[Path]:
    return list(root.rglob(f"{TEMP_PREFIX}*"))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "objects"


@pytest.fixture
def storage(root: Path) -> LocalStorage:
    return LocalStorage(root)


@pytest.mark.asyncio
async def test_objects_are_private_files_in_private_directories(
    storage: LocalStorage, root: Path
) -> None:
    await storage.put("orgs/1/docs/a.bin", _pieces(b"payload"))

    assert (root / "orgs/1/docs/a.bin").read_bytes() == b"payload"
    assert _mode(root / "orgs/1/docs/a.bin") == 0o600
    assert _mode(root / "orgs/1/docs") == 0o700
    assert _mode(root / "orgs") == 0o700


@pytest.mark.asyncio
async def test_no_temp_file_survives_success_or_failure(storage: LocalStorage, root: Path) -> None:
    async def failing() -> AsyncIterator[bytes]:
        yield os.urandom(600_000)
        raise OSError(5, "input device failed")

    await storage.put("orgs/1/ok", _pieces(os.urandom(700_000), 65_536))
    with pytest.raises(StorageError, match="input device failed"):
        await storage.put("orgs/1/bad", failing())

    assert _temp_files(root) == []
    assert sorted(p.name for p in (root / "orgs/1").iterdir()) == ["ok"]


@pytest.mark.asyncio
async def test_reads_come_in_fixed_chunks(storage: LocalStorage) -> None:
    await storage.put("a", _pieces(os.urandom(3 * READ_CHUNK + 1)))

    sizes = [len(chunk) async for chunk in storage.get("a")]

    assert sizes == [READ_CHUNK, READ_CHUNK, READ_CHUNK, 1]


@pytest.mark.asyncio
async def test_symlinked_directory_escaping_the_root_is_rejected(
    storage: LocalStorage, root: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"not yours")
    root.mkdir()
    (root / "link").symlink_to(outside)

    with pytest.raises(KeyRejected, match="outside the storage root"):
        await storage.put("link/new/x", _pieces(b"x"))
    with pytest.raises(KeyRejected):
        await _read(storage, "link/secret")
    with pytest.raises(KeyRejected):
        await storage.exists("link/secret")
    with pytest.raises(KeyRejected):
        await storage.delete("link/secret")

    assert sorted(p.name for p in outside.iterdir()) == ["secret"]
    assert [info.key async for info in storage.list("")] == []
    assert [info.key async for info in storage.list("link/")] == []


@pytest.mark.asyncio
async def test_symlinked_file_escaping_the_root_is_rejected(
    storage: LocalStorage, root: Path, tmp_path: Path
) -> None:
    (tmp_path / "passwd").write_bytes(b"root:x:0:0")
    (root / "orgs").mkdir(parents=True)
    (root / "orgs" / "p").symlink_to(tmp_path / "passwd")

    with pytest.raises(KeyRejected):
        await _read(storage, "orgs/p")


@pytest.mark.asyncio
async def test_reserved_temp_names_are_rejected(storage: LocalStorage) -> None:
    with pytest.raises(KeyRejected, match="reserved"):
        await storage.put(f"orgs/{TEMP_PREFIX}x", _pieces(b"x"))


@pytest.mark.asyncio
async def test_list_ignores_stray_temp_files(storage: LocalStorage, root: Path) -> None:
    await storage.put("orgs/1/a", _pieces(b"x"))
    (root / "orgs/1" / f"{TEMP_PREFIX}leftover").write_bytes(b"partial")

    assert [info.key async for info in storage.list("orgs/")] == ["orgs/1/a"]


@pytest.mark.asyncio
async def test_delete_prunes_empty_directories_but_keeps_the_root(
    storage: LocalStorage, root: Path
) -> None:
    await storage.put("orgs/1/docs/a", _pieces(b"x"))
    await storage.put("orgs/2/b", _pieces(b"x"))

    await storage.delete("orgs/1/docs/a")

    assert not (root / "orgs/1").exists()
    assert (root / "orgs/2/b").exists()
    await storage.delete("orgs/2/b")
    assert root.is_dir()
    assert list(root.iterdir()) == []


@pytest.mark.asyncio
async def test_pruning_can_be_disabled(root: Path) -> None:
    storage = LocalStorage(root, prune_empty_dirs=False)
    await storage.put("orgs/1/a", _pieces(b"x"))

    await storage.delete("orgs/1/a")

    assert (root / "orgs/1").is_dir()


@pytest.mark.asyncio
async def test_put_recreates_directories_after_pruning(storage: LocalStorage) -> None:
    await storage.put("orgs/1/a", _pieces(b"x"))
    await storage.delete("orgs/1/a")

    await storage.put("orgs/1/a", _pieces(b"again"))

    assert await _read(storage, "orgs/1/a") == b"again"


@pytest.mark.asyncio
async def test_check_creates_a_missing_root_and_leaves_nothing(
    storage: LocalStorage, root: Path
) -> None:
    await storage.check()

    assert root.is_dir()
    assert list(root.iterdir()) == []


@pytest.mark.asyncio
async def test_check_fails_when_the_root_is_unusable(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")

    with pytest.raises(StorageError, match="not writable"):
        await LocalStorage(blocker).check()


def test_factory_opens_a_directory(tmp_path: Path) -> None:
    storage = open_storage(f"file://{tmp_path}/objects")

    assert isinstance(storage, LocalStorage)
    assert storage.root == tmp_path / "objects"


@pytest.mark.parametrize("url", ["gs://bucket", "https://x/y", "azure://c/p"])
def test_factory_names_an_unsupported_scheme(url: str) -> None:
    with pytest.raises(ValueError, match=f"'{url.split(':', 1)[0]}'"):
        open_storage(url)


def test_factory_rejects_query_strings() -> None:
    with pytest.raises(ValueError, match="query"):
        open_storage("file:///srv/objects?mode=fast")
