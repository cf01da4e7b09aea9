"""Heap freed by a large file's checks in a worker thread goes back to the system."""

from __future__ import annotations

import ctypes.util
import threading

import pytest

from clinvault.heap import release_free_heap


def _allocate_and_free_in_a_thread() -> None:
    def work() -> None:
        blocks = [bytearray(64 * 1024) for _ in range(512)]  # 32 MiB in small blocks
        del blocks[:-1]

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()


@pytest.mark.skipif(ctypes.util.find_library("c") is None, reason="no C library to load")
def test_what_a_worker_thread_freed_is_returned() -> None:
    release_free_heap()
    _allocate_and_free_in_a_thread()
    assert release_free_heap() is True


def test_the_arena_limit_is_accepted() -> None:
    from clinvault.heap import limit_arenas

    assert limit_arenas(2) is True
