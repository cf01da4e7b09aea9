"""The upload spool: ciphertext only on disk, 0600 files, abandoned uploads swept."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from clinvault.crypto.envelope import StreamSealer, decrypt_stream, new_data_key
from clinvault.crypto.errors import IntegrityError
from clinvault.filecheck.model import FileKind
from clinvault.filecheck.sniff import sniff_kind
from clinvault.storage import spool

SECRET = b"%PDF-1.7\n% patient: Jane Roe, SSN 078-05-1120\n" * 5000


async def _collect(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in chunks])


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _spooled(directory: spool.SpoolDirectory, data: bytes, piece: int = 1000) -> spool.SpooledFile:
    writer = directory.new_file("part-")
    for start in range(0, len(data), piece):
        writer.write(data[start : start + piece])
    return writer.finish()


@pytest.mark.parametrize("piece", [1, 1000, 65536, 65537, 10**6])
@pytest.mark.parametrize("size", [0, 1, 65536, 65537, 200_000])
async def test_sealer_output_is_the_envelope_format(piece: int, size: int) -> None:
    data = os.urandom(size)
    key = new_data_key()
    sealer = StreamSealer(key)
    sealed = b"".join(sealer.update(data[i : i + piece]) for i in range(0, size, piece))
    sealed += sealer.finish()
    assert await _collect(decrypt_stream(_once(sealed), key)) == data


async def test_spool_files_hold_ciphertext_only_and_are_private(tmp_path: Path) -> None:
    root = tmp_path / "uploads"
    directory = spool.open_directory(root)
    spooled = _spooled(directory, SECRET)
    raw = spooled.path.read_bytes()
    assert b"Jane Roe" not in raw
    assert b"%PDF" not in raw
    assert raw.startswith(b"CVE1")
    assert stat.S_IMODE(spooled.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(directory.path.stat().st_mode) == 0o700
    assert spooled.size == len(SECRET)
    assert await _collect(spooled.chunks()) == SECRET
    directory.cleanup()
    assert list(root.iterdir()) == []


def test_a_new_spool_file_is_an_envelope_before_any_byte_arrives(tmp_path: Path) -> None:
    """A process killed right after opening a part leaves a sealed header, never a file a
    reader could take for plaintext."""
    directory = spool.open_directory(tmp_path)
    writer = directory.new_file("part-")
    assert writer.path.read_bytes().startswith(b"CVE1")
    writer.close()
    directory.cleanup()


def test_a_spool_file_appears_only_once_its_header_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a kill between creating the file and writing its header would leave."""
    directory = spool.open_directory(tmp_path)

    def killed(_fd: int, _data: bytes) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(spool, "_write_all", killed)
    with pytest.raises(KeyboardInterrupt):
        directory.new_file("part-")
    assert [p for p in directory.path.iterdir() if p.is_file()] == []
    directory.cleanup()


@pytest.mark.skipif(not hasattr(os, "O_TMPFILE"), reason="unnamed files are Linux's")
def test_on_linux_a_spool_file_is_written_unnamed_then_linked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never created by name (O_CREAT), where a kill before the header is written would
    leave an empty file under the upload's name."""
    opened: list[int] = []
    real_open = os.open

    def spy(path: object, flags: int, *args: object, **kwargs: object) -> int:
        opened.append(flags)
        return real_open(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(spool.os, "open", spy)
    directory = spool.open_directory(tmp_path)
    opened.clear()
    writer = directory.new_file("part-")
    assert writer.path.read_bytes().startswith(b"CVE1")
    assert not [flags for flags in opened if flags & os.O_CREAT]
    writer.close()
    directory.cleanup()


async def test_plaintext_for_checkers_never_touches_the_disk(tmp_path: Path) -> None:
    directory = spool.open_directory(tmp_path)
    spooled = _spooled(directory, SECRET)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    async with spooled.plaintext() as path:
        assert path.read_bytes() == SECRET
        assert path.stat().st_size == len(SECRET)
        assert sniff_kind(path) is FileKind.PDF
        after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
        assert after == before
        assert not any(SECRET[:40] in data for data in after.values())
    assert not path.exists()
    directory.cleanup()


def test_a_spool_file_is_never_opened_twice(tmp_path: Path) -> None:
    directory = spool.open_directory(tmp_path)
    target = directory.path / "part-1"
    target.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(FileExistsError):
        directory.new_file("part-")
    assert not (tmp_path / "elsewhere").exists()
    directory.cleanup()


async def test_tampered_spool_is_refused(tmp_path: Path) -> None:
    directory = spool.open_directory(tmp_path)
    spooled = _spooled(directory, SECRET)
    data = bytearray(spooled.path.read_bytes())
    data[100] ^= 1
    spooled.path.write_bytes(bytes(data))
    with pytest.raises(IntegrityError):
        await _collect(spooled.chunks())
    directory.cleanup()


HOLDER = """
import sys, time
from pathlib import Path
from clinvault.storage import spool
directory = spool.open_directory(Path(sys.argv[1]), "upload-")
writer = directory.new_file("part-")
writer.write(b"%PDF-1.7 plaintext that must not survive" * 100)
print(directory.path, flush=True)
time.sleep(60)
"""


def test_sweep_removes_what_a_killed_process_left_and_keeps_live_uploads(tmp_path: Path) -> None:
    root = tmp_path / "uploads"
    live = spool.open_directory(root)
    _spooled(live, SECRET)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(root)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None
    dead_path = Path(holder.stdout.readline().strip())
    assert dead_path.is_dir()
    # While its owner runs, the other process's upload is in use too.
    assert spool.sweep(root) == spool.SweepResult(removed=0, in_use=2)
    holder.kill()
    holder.wait(10)
    assert spool.sweep(root) == spool.SweepResult(removed=1, in_use=1)
    assert not dead_path.exists()
    assert live.path.is_dir()
    live.cleanup()
    assert list(root.iterdir()) == []


def test_sweep_removes_loose_files_and_staging_directories(tmp_path: Path) -> None:
    root = tmp_path / "uploads"
    root.mkdir()
    loose = root / "attachment-abc"
    loose.write_bytes(b"%PDF- left by an earlier version")
    (root / ".staging-empty").mkdir()
    old_staging = root / ".staging-x"
    old_staging.mkdir()
    (old_staging / "part-1").write_bytes(b"x")
    young_staging = root / ".staging-y"
    young_staging.mkdir()
    (young_staging / "part-1").write_bytes(b"x")
    long_ago = time.time() - spool.STAGING_GRACE_SECONDS - 10
    os.utime(old_staging, (long_ago, long_ago))
    assert spool.sweep(root) == spool.SweepResult(removed=3, in_use=1)
    assert [p.name for p in root.iterdir()] == [".staging-y"]


def test_an_upload_whose_staging_directory_is_swept_makes_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = spool.tempfile.mkdtemp
    swept = []

    def mkdtemp_then_sweep(**kwargs: str) -> str:
        made = real(**kwargs)
        if not swept:
            swept.append(spool.sweep(tmp_path))
        return made

    monkeypatch.setattr(spool.tempfile, "mkdtemp", mkdtemp_then_sweep)
    directory = spool.open_directory(tmp_path)
    assert swept == [spool.SweepResult(removed=1, in_use=0)]
    assert directory.path.is_dir()
    assert [p.name for p in tmp_path.iterdir()] == [directory.path.name]
    directory.cleanup()


def test_sweep_of_a_missing_root_is_empty(tmp_path: Path) -> None:
    assert spool.sweep(tmp_path / "absent") == spool.SweepResult(0, 0)
