"""Where uploaded files are checked: a pool of worker threads, a few files at a time.

A check is CPU-bound (qpdf parses the whole PDF, Pillow decodes the image) and
holds the file's structure in memory while it runs. Run on asyncio's default
executor (cores + 4 threads), eight concurrent uploads meant six parses at once on
two cores: no faster than two at a time, and three times the memory. The pool runs at most
`threads` checks (default: one per core); the others wait their turn, queued
in the pool rather than holding a thread.
"""

from __future__ import annotations

import asyncio
import functools
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from clinvault.filecheck.inspection import inspect_file
from clinvault.filecheck.model import FilePolicy, InspectedFile
from clinvault.filecheck.scanning import VirusScanner


def default_threads() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class FileCheckPool:
    def __init__(self, threads: int | None = None, scanner: VirusScanner | None = None) -> None:
        self.threads = threads or default_threads()
        self._scanner = scanner
        self._executor = ThreadPoolExecutor(self.threads, thread_name_prefix="clinvault-filecheck")

    async def inspect(
        self,
        path: Path,
        filename: str,
        policy: FilePolicy,
        *,
        declared_sha256: str | None = None,
    ) -> InspectedFile:
        """`inspect_file` in the pool; raises what it raises (`FileRejected`, ...)."""
        check = functools.partial(
            inspect_file,
            path,
            filename,
            policy,
            declared_sha256=declared_sha256,
            scanner=self._scanner,
        )
        return await asyncio.get_running_loop().run_in_executor(self._executor, check)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
