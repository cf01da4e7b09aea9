"""The check pool runs at most its number of checks at once and answers as inspect_file does."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from tests.unit.filecheck import corpus

from clinvault.filecheck import FileCheckPool, FileKind, FilePolicy, FileRejected, InspectedFile
from clinvault.filecheck import pool as pool_module

EVERYTHING = FilePolicy(allowed_kinds=frozenset(FileKind))


async def test_no_more_checks_run_at_once_than_the_pool_has_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    running = 0
    most = 0
    lock = threading.Lock()
    real = pool_module.inspect_file

    def counted(*args: Any, **kwargs: Any) -> InspectedFile:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        try:
            time.sleep(0.05)  # long enough for every submitted check to be waiting
            return real(*args, **kwargs)
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(pool_module, "inspect_file", counted)
    checks = FileCheckPool(threads=2)
    try:
        paths = [corpus.write(tmp_path / f"{n}.pdf", corpus.valid_pdf()) for n in range(8)]
        found = await asyncio.gather(
            *(checks.inspect(path, path.name, EVERYTHING) for path in paths)
        )
    finally:
        checks.close()
    assert most == 2
    assert [inspected.kind for inspected in found] == [FileKind.PDF] * 8


async def test_a_refusal_and_a_declared_digest_come_back_from_the_pool(tmp_path: Path) -> None:
    checks = FileCheckPool(threads=1)
    data = corpus.valid_pdf()
    try:
        good = corpus.write(tmp_path / "good.pdf", data)
        inspected = await checks.inspect(
            good, "good.pdf", EVERYTHING, declared_sha256=corpus.sha256_hex(data)
        )
        assert inspected.sha256 == corpus.sha256_hex(data)
        renamed = corpus.write(tmp_path / "setup.pdf", corpus.exe_renamed())
        with pytest.raises(FileRejected) as refused:
            await checks.inspect(renamed, "setup.pdf", EVERYTHING)
        assert refused.value.codes == ["type_mismatch"]
    finally:
        checks.close()


def test_one_thread_per_core_unless_configured() -> None:
    assert FileCheckPool().threads == pool_module.default_threads() >= 1
    assert FileCheckPool(threads=3).threads == 3
