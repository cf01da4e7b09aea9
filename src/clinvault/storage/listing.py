"""The sorted, streaming listing behind `LocalStorage.list`, confined to the root.

Every directory is opened relative to its parent's descriptor with O_NOFOLLOW,
so no symlink below the root is ever followed, not even one swapped in while
the walk runs; symlinked or special files are not objects. Visiting each
directory's entries in key order (a subdirectory sorts as its name plus '/')
yields keys in global sorted order while holding only the directories on the
current path.
"""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from clinvault.storage.ports import StoredObjectInfo

BATCH = 256
_DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# Gone, not a directory, or a symlink (O_NOFOLLOW): nothing to list there.
_NOT_LISTABLE = {errno.ENOENT, errno.ENOTDIR, errno.ELOOP}


@dataclass(frozen=True, slots=True)
class _Entry:
    name: str
    is_dir: bool
    size: int = 0
    mtime: float = 0.0

    @property
    def order(self) -> str:
        return self.name + "/" if self.is_dir else self.name


@dataclass(slots=True)
class _Frame:
    fd: int
    relative: str
    entries: Iterator[_Entry]


class DirectoryListing:
    """Objects under `root` whose key starts with `prefix`, a batch per call.

    `next_batch` does blocking I/O (run it in a worker thread) and returns an
    empty list once the walk is over; `close` releases the open directories
    and may be called at any time, also while a batch is being read.
    """

    def __init__(self, root: Path, prefix: str, skipped_prefix: str) -> None:
        self._root = root
        self._prefix = prefix
        self._skipped = skipped_prefix
        self._stack: list[_Frame] = []
        self._lock = threading.Lock()
        self._started = False
        self._closed = False

    def next_batch(self) -> list[StoredObjectInfo]:
        with self._lock:
            if self._closed:
                return []
            if not self._started:
                self._started = True
                self._open_start()
            batch: list[StoredObjectInfo] = []
            while self._stack and len(batch) < BATCH:
                frame = self._stack[-1]
                entry = next(frame.entries, None)
                if entry is None:
                    self._stack.pop()
                    os.close(frame.fd)
                    continue
                key = frame.relative + entry.name
                if entry.is_dir:
                    if self._leads_to_prefix(key + "/"):
                        self._descend(frame.fd, entry.name, key + "/")
                elif key.startswith(self._prefix):
                    modified_at = datetime.fromtimestamp(entry.mtime, UTC)
                    batch.append(StoredObjectInfo(key, entry.size, modified_at))
            return batch

    def close(self) -> None:
        with self._lock:
            self._closed = True
            while self._stack:
                os.close(self._stack.pop().fd)

    def _leads_to_prefix(self, directory_key: str) -> bool:
        return directory_key.startswith(self._prefix) or self._prefix.startswith(directory_key)

    def _open_start(self) -> None:
        """Open the deepest directory the prefix names in full, one segment at a time."""
        try:
            fd = os.open(self._root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as exc:
            if exc.errno in _NOT_LISTABLE:
                return
            raise
        relative = ""
        for segment in self._prefix.split("/")[:-1]:
            child = None if segment.startswith(self._skipped) else _open_child(fd, segment)
            os.close(fd)
            if child is None:
                return
            fd, relative = child, relative + segment + "/"
        self._push(fd, relative)

    def _descend(self, parent_fd: int, name: str, relative: str) -> None:
        fd = _open_child(parent_fd, name)
        if fd is not None:
            self._push(fd, relative)

    def _push(self, fd: int, relative: str) -> None:
        try:
            entries = self._entries(fd)
        except BaseException:
            os.close(fd)
            raise
        self._stack.append(_Frame(fd, relative, entries))

    def _entries(self, fd: int) -> Iterator[_Entry]:
        found: list[_Entry] = []
        with os.scandir(fd) as scan:
            for entry in scan:
                if entry.name.startswith(self._skipped):
                    continue
                try:
                    if entry.is_dir(follow_symlinks=False):
                        found.append(_Entry(entry.name, is_dir=True))
                    elif entry.is_file(follow_symlinks=False):
                        status = entry.stat(follow_symlinks=False)
                        found.append(_Entry(entry.name, False, status.st_size, status.st_mtime))
                except FileNotFoundError:
                    # Deleted between the directory read and its stat.
                    continue
        found.sort(key=lambda entry: entry.order)
        return iter(found)


def _open_child(parent_fd: int, name: str) -> int | None:
    try:
        return os.open(name, _DIRECTORY_FLAGS, dir_fd=parent_fd)
    except OSError as exc:
        if exc.errno in _NOT_LISTABLE:
            return None
        raise
