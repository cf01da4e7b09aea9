"""The upload spool: uploaded bytes reach the local disk only as ciphertext.

Each spooled file is sealed (AES-256-GCM, the envelope format of
`clinvault.crypto.envelope`) under a random key of its own that exists only in
the `SpooledFile` object, in this process's memory: it is never written,
logged or passed on. A process that dies mid-upload, SIGKILL included, leaves
ciphertext nobody can read.

Layout under the spool root (`<home>/tmp/uploads`, 0700): one directory per
upload (0700), each file in it created 0600 with O_EXCL and O_NOFOLLOW. The
owning process holds an exclusive `flock` on its upload directory for as long
as it uses it; the kernel drops the lock when the process ends, however it
ends. `sweep` therefore removes exactly the directories whose lock it can take
(their owner is gone), in any process on the host, without an age guess. A
directory is locked before it gets its public name (it is made under a
`.staging-` name, locked, then renamed), so a sweep never sees a live upload
unlocked. A staging directory is always empty, so the sweep removes it at
once (a live upload that loses its staging directory so just makes another);
a non-empty one only after `STAGING_GRACE_SECONDS`; loose files (none are made
here) at once.

Checkers that need random access to the plaintext get it from `plaintext()`:
on Linux an anonymous in-memory file (memfd), reachable only through this
process's descriptor table and gone when the process ends; elsewhere a 0600
file in the upload's directory, removed on exit and by the sweep.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import os
import secrets
import shutil
import stat
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import structlog

from clinvault.config import Settings
from clinvault.crypto.envelope import StreamSealer, decrypt_stream, new_data_key

log = structlog.get_logger(__name__)

# A few hundred KiB per read: each upload in flight holds about two of them (ciphertext
# and plaintext), so the chunk sets the spool's memory per upload, not its speed.
READ_CHUNK = 256 * 1024
STAGING_PREFIX = ".staging-"
STAGING_GRACE_SECONDS = 300.0
STAGING_ATTEMPTS = 5
FILE_MODE = 0o600
DIRECTORY_MODE = 0o700
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def spool_root(settings: Settings) -> Path:
    """Where every upload of this home is spooled."""
    return settings.home / "tmp" / "uploads"


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _create_sealed(path: Path, header: bytes) -> int:
    """A new file at `path` (exclusive, 0600) holding `header`, open for writing.

    On Linux the file is written unnamed (O_TMPFILE) and linked into place once the
    header is in it, so no one ever sees it without the header; elsewhere, or on a
    filesystem without O_TMPFILE, it is created and the header written at once.
    """
    unnamed = getattr(os, "O_TMPFILE", 0)
    if unnamed:
        try:
            fd = os.open(path.parent, unnamed | os.O_WRONLY | _CLOEXEC, FILE_MODE)
        except OSError:
            fd = -1
        if fd >= 0:
            try:
                _write_all(fd, header)
                _link_unnamed(fd, path)
                return fd
            except FileExistsError:
                os.close(fd)
                raise
            except OSError:
                os.close(fd)  # no O_TMPFILE linking here: the plain way below
            except BaseException:
                os.close(fd)
                raise
    fd = os.open(path, _CREATE_FLAGS | _CLOEXEC, FILE_MODE)
    _write_all(fd, header)
    return fd


def _link_unnamed(fd: int, path: Path) -> None:
    """Give the unnamed file open at `fd` the name `path`.

    Through a directory descriptor, so that Python calls linkat with
    AT_SYMLINK_FOLLOW: a plain link() would link the /proc symlink itself and fail
    (EXDEV), leaving every file to the create-then-write way.
    """
    directory = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | _CLOEXEC)
    try:
        os.link(f"/proc/self/fd/{fd}", path.name, dst_dir_fd=directory)
    finally:
        os.close(directory)


class SpoolWriter:
    """Seals bytes into one new spool file as they arrive (synchronous, small writes)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._key = new_data_key()
        self._sealer = StreamSealer(self._key)
        # The file appears in the directory with its envelope header already written: a
        # process killed at any moment leaves a sealed (maybe empty) envelope, never an
        # unmarked file.
        self._fd: int | None = _create_sealed(path, self._sealer.update(b""))
        self.size = 0

    def write(self, data: bytes) -> None:
        if self._fd is None:
            raise ValueError("the spool file is closed")
        self.size += len(data)
        sealed = self._sealer.update(data)
        if sealed:
            _write_all(self._fd, sealed)

    def finish(self) -> SpooledFile:
        """Seal the last frame and close: the file is complete and readable."""
        if self._fd is None:
            raise ValueError("the spool file is closed")
        try:
            _write_all(self._fd, self._sealer.finish())
        finally:
            self.close()
        return SpooledFile(self.path, self.size, self._key)

    def close(self) -> None:
        """Close without finishing (an aborted part); the directory's cleanup removes it."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


@dataclass(frozen=True, slots=True, repr=False)
class SpooledFile:
    """A complete spool file and the key that opens it (in memory only)."""

    path: Path
    size: int
    _key: bytes

    def __repr__(self) -> str:
        return f"SpooledFile({self.path.name!r}, size={self.size})"

    async def chunks(self) -> AsyncIterator[bytes]:
        """The plaintext, decrypted and authenticated as it is read."""

        async def ciphertext() -> AsyncIterator[bytes]:
            handle = await asyncio.to_thread(self.path.open, "rb")
            try:
                while chunk := await asyncio.to_thread(handle.read, READ_CHUNK):
                    yield chunk
            finally:
                await asyncio.to_thread(handle.close)

        async for chunk in decrypt_stream(ciphertext(), self._key):
            yield chunk

    @contextlib.asynccontextmanager
    async def plaintext(self) -> AsyncIterator[Path]:
        """A path to the plaintext for checkers that need a file; valid inside the block."""
        fd, fallback = await asyncio.to_thread(_plaintext_target, self.path)
        try:
            async for chunk in self.chunks():
                await asyncio.to_thread(_write_all, fd, chunk)
            if fallback is None:
                yield Path(f"/proc/self/fd/{fd}")
            else:
                os.close(fd)
                fd = -1
                yield fallback
        finally:
            if fd >= 0:
                os.close(fd)
            if fallback is not None:
                fallback.unlink(missing_ok=True)


def _plaintext_target(spooled: Path) -> tuple[int, Path | None]:
    """A descriptor for the plaintext: in memory where the system allows it."""
    if hasattr(os, "memfd_create") and Path("/proc/self/fd").is_dir():
        return os.memfd_create("clinvault-check", os.MFD_CLOEXEC), None
    fallback = spooled.with_name(f"{spooled.name}.check-{secrets.token_hex(4)}")
    return os.open(fallback, _CREATE_FLAGS | _CLOEXEC, FILE_MODE), fallback


class SpoolDirectory:
    """One upload's private directory, locked by this process while it exists."""

    def __init__(self, path: Path, lock_fd: int) -> None:
        self.path = path
        self._lock_fd: int | None = lock_fd
        self._count = 0

    def new_file(self, prefix: str) -> SpoolWriter:
        self._count += 1
        return SpoolWriter(self.path / f"{prefix}{self._count}")

    def cleanup(self) -> None:
        """Remove the directory and everything in it, then release the lock."""
        shutil.rmtree(self.path, ignore_errors=True)
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


def open_directory(root: Path, prefix: str = "upload-") -> SpoolDirectory:
    """A new locked directory of its own under `root` for one upload."""
    for _ in range(STAGING_ATTEMPTS - 1):
        try:
            return _open_directory(root, prefix)
        except FileNotFoundError:
            continue  # a sweep removed the staging directory: make another
    return _open_directory(root, prefix)


def _open_directory(root: Path, prefix: str) -> SpoolDirectory:
    root.mkdir(parents=True, exist_ok=True, mode=DIRECTORY_MODE)
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=root))
    fd = os.open(staging, os.O_RDONLY | os.O_DIRECTORY | _CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        final = root / f"{prefix}{secrets.token_hex(8)}"
        os.rename(staging, final)
    except BaseException:
        os.close(fd)
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return SpoolDirectory(final, fd)


@dataclass(frozen=True, slots=True)
class SweepResult:
    removed: int
    in_use: int


def sweep(root: Path, *, staging_grace_seconds: float = STAGING_GRACE_SECONDS) -> SweepResult:
    """Remove what dead processes left in the spool; keep the live uploads."""
    removed = in_use = 0
    try:
        entries = list(os.scandir(root))
    except FileNotFoundError:
        return SweepResult(0, 0)
    now = time.time()
    for entry in entries:
        try:
            info = entry.stat(follow_symlinks=False)
        except FileNotFoundError:
            continue
        is_directory = stat.S_ISDIR(info.st_mode)
        if is_directory and not entry.name.startswith(STAGING_PREFIX):
            if _remove_if_abandoned(Path(entry.path)):
                removed += 1
            else:
                in_use += 1
        elif not is_directory or now - info.st_mtime >= staging_grace_seconds:
            # Nothing writes loose files here (earlier versions did, in plaintext).
            _remove(Path(entry.path), is_directory=is_directory)
            removed += 1
        elif _remove_empty(Path(entry.path)):
            removed += 1
        else:
            in_use += 1
    if removed:
        log.info("storage.spool.swept", removed=removed, in_use=in_use)
    return SweepResult(removed, in_use)


def _remove_if_abandoned(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | _CLOEXEC | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                return False
            raise
        shutil.rmtree(path, ignore_errors=True)
        return True
    finally:
        os.close(fd)


def _remove_empty(path: Path) -> bool:
    try:
        path.rmdir()
    except FileNotFoundError:
        return False
    except OSError as exc:
        if exc.errno == errno.ENOTEMPTY:
            return False
        raise
    return True


def _remove(path: Path, *, is_directory: bool) -> None:
    if is_directory:
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
