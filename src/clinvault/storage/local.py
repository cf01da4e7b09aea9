"""Object storage in a local directory: atomic, durable writes under a confined root.

File I/O runs in worker threads so a large object never blocks the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
import tempfile
import threading
from collections.abc import AsyncIterable, AsyncIterator, Callable
from pathlib import Path
from typing import BinaryIO, TypeVar

from clinvault.storage.keys import validate_key, validate_prefix
from clinvault.storage.listing import DirectoryListing
from clinvault.storage.ports import KeyRejected, ObjectMissing, StorageError, StoredObjectInfo

READ_CHUNK = 64 * 1024
TEMP_PREFIX = ".cvtmp-"
# Small input chunks are gathered before each hop to a worker thread.
_WRITE_BATCH = 256 * 1024
_BEGIN_ATTEMPTS = 3
_T = TypeVar("_T")


class LocalStorage:
    """`ObjectStorage` whose objects are 0600 files under `root` (directories 0700).

    A put writes a temp file beside its target, fsyncs it, renames it into
    place and fsyncs the directory, so readers see the old object or the whole
    new one and an acknowledged put survives a crash. A failed or cancelled
    put removes its temp file. Keys whose path would resolve outside the root,
    through ".." or a symlink, are rejected.
    """

    def __init__(self, root: Path, *, prune_empty_dirs: bool = True) -> None:
        self._root = Path(os.path.realpath(root))
        self._prune_empty_dirs = prune_empty_dirs

    @property
    def root(self) -> Path:
        return self._root

    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        path = self._path(key)
        pending = await _owned_in_thread(lambda: self._begin(key, path), _PendingObject.abort)
        size = 0
        batch = bytearray()
        try:
            async for chunk in chunks:
                batch += chunk
                size += len(chunk)
                if len(batch) >= _WRITE_BATCH:
                    await asyncio.to_thread(pending.write, batch)
                    batch.clear()
            if batch:
                await asyncio.to_thread(pending.write, batch)
            await asyncio.to_thread(pending.publish)
        except BaseException as exc:
            pending.abort()
            if isinstance(exc, OSError):
                raise StorageError(f"cannot store object {key!r}: {_reason(exc)}") from exc
            raise
        return size

    async def get(self, key: str) -> AsyncIterator[bytes]:
        path = self._path(key)
        handle = await _owned_in_thread(lambda: self._open_for_read(key, path), _close)
        try:
            while chunk := await asyncio.to_thread(handle.read, READ_CHUNK):
                yield chunk
        finally:
            # Buffered files lock around read and close, so this waits for a
            # read still running in a worker thread after a cancellation.
            handle.close()

    async def exists(self, key: str) -> bool:
        path = self._path(key)
        return await asyncio.to_thread(lambda: self._confined(key, path).is_file())

    async def delete(self, key: str) -> None:
        path = self._path(key)
        await asyncio.to_thread(self._delete, key, path)

    async def check(self) -> None:
        await asyncio.to_thread(self._check)

    async def list(self, prefix: str) -> AsyncIterator[StoredObjectInfo]:
        """Objects whose key starts with `prefix`, sorted, streamed a directory at a time.

        Temp files of puts in flight are skipped and symlinks never followed.
        """
        validate_prefix(prefix)
        listing = DirectoryListing(self._root, prefix, TEMP_PREFIX)
        try:
            while batch := await asyncio.to_thread(_next_batch, listing, prefix):
                for info in batch:
                    yield info
        finally:
            # Waits for a batch still being read in a worker thread after a cancellation.
            listing.close()

    def _path(self, key: str) -> Path:
        segments = validate_key(key).split("/")
        if any(segment.startswith(TEMP_PREFIX) for segment in segments):
            raise KeyRejected(f"object key {key!r} uses the reserved prefix {TEMP_PREFIX!r}")
        return self._root.joinpath(*segments)

    def _confined(self, key: str, path: Path) -> Path:
        real = Path(os.path.realpath(path))
        if not real.is_relative_to(self._root):
            raise KeyRejected(f"object key {key!r} resolves outside the storage root")
        return real

    def _begin(self, key: str, path: Path) -> _PendingObject:
        # Confinement is checked before any directory is made, so a symlinked
        # directory cannot make mkdir create anything outside the root.
        target = self._confined(key, path)
        for _ in range(_BEGIN_ATTEMPTS):
            try:
                self._make_dirs(target.parent)
                fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=target.parent)
            except FileNotFoundError:
                # A concurrent delete pruned the directory just made; make it again.
                continue
            except OSError as exc:
                raise StorageError(f"cannot store object {key!r}: {_reason(exc)}") from exc
            return _PendingObject(target, fd, temp)
        raise StorageError(f"cannot store object {key!r}: its directory keeps disappearing")

    def _make_dirs(self, directory: Path) -> None:
        missing: list[Path] = []
        current = directory
        while not current.exists():
            missing.append(current)
            current = current.parent
        for created in reversed(missing):
            try:
                created.mkdir(mode=0o700)
            except FileExistsError:
                continue
            _fsync_dir(created.parent)

    def _open_for_read(self, key: str, path: Path) -> BinaryIO:
        real = self._confined(key, path)
        try:
            handle = open(real, "rb")  # noqa: SIM115 - closed by get()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectMissing(f"no object {key!r}") from None
        except OSError as exc:
            raise StorageError(f"cannot read object {key!r}: {_reason(exc)}") from exc
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            handle.close()
            raise ObjectMissing(f"no object {key!r}")
        return handle

    def _delete(self, key: str, path: Path) -> None:
        real = self._confined(key, path)
        try:
            os.unlink(real)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return
        except OSError as exc:
            raise StorageError(f"cannot delete object {key!r}: {_reason(exc)}") from exc
        _fsync_dir(real.parent)
        if self._prune_empty_dirs:
            self._prune(real.parent)

    def _prune(self, directory: Path) -> None:
        while directory != self._root and directory.is_relative_to(self._root):
            try:
                os.rmdir(directory)
            except OSError:
                return
            _fsync_dir(directory.parent)
            directory = directory.parent

    def _check(self) -> None:
        try:
            self._root.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=self._root)
            try:
                os.write(fd, b"ok")
                os.fsync(fd)
            finally:
                os.close(fd)
                os.unlink(temp)
        except OSError as exc:
            raise StorageError(
                f"storage root {self._root} is not writable: {_reason(exc)}"
            ) from exc


class _PendingObject:
    """A temp file beside its target; a lock keeps abort from racing a running write."""

    def __init__(self, target: Path, fd: int, temp: str) -> None:
        self._target = target
        self._temp = temp
        self._file = open(fd, "wb")  # noqa: SIM115 - closed by publish() or abort()
        self._lock = threading.Lock()
        self._finished = False

    def write(self, data: bytes | bytearray) -> None:
        with self._lock:
            self._file.write(data)

    def publish(self) -> None:
        with self._lock:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            os.replace(self._temp, self._target)
            self._finished = True
        _fsync_dir(self._target.parent)

    def abort(self) -> None:
        with self._lock:
            if self._finished:
                return
            self._finished = True
            with contextlib.suppress(OSError):
                self._file.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._temp)


def _next_batch(listing: DirectoryListing, prefix: str) -> list[StoredObjectInfo]:
    try:
        return listing.next_batch()
    except OSError as exc:
        raise StorageError(f"cannot list objects under {prefix!r}: {_reason(exc)}") from exc


async def _owned_in_thread(acquire: Callable[[], _T], release: Callable[[_T], None]) -> _T:
    """Run `acquire` in a worker thread and return what it opened.

    If the caller is cancelled while the thread runs, the thread still
    finishes; whatever it opened is then released instead of leaking.
    """
    future = asyncio.ensure_future(asyncio.to_thread(acquire))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:

        def release_when_done(done: asyncio.Future[_T]) -> None:
            if not done.cancelled() and done.exception() is None:
                release(done.result())

        future.add_done_callback(release_when_done)
        raise


def _close(handle: BinaryIO) -> None:
    handle.close()


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _reason(exc: OSError) -> str:
    return exc.strerror or exc.__class__.__name__
