"""Bulk statements in a few fixed shapes, so that statement caches stay small.

A multi-row INSERT of n rows, or an IN list of n values, is a different SQL
text for every n. The drivers cache prepared statements by text (sqlite3 keeps
128 per connection, asyncpg 100), and a prepared 1,000-row INSERT is large: a
bulk import whose batches vary in size would fill those caches with big,
never-reused statements, and its memory would grow with the number of batches.
`pages` and `padded` bound the number of distinct texts whatever the sizes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")

PAGE_ROWS = 128


def pages(rows: Sequence[T], page: int = PAGE_ROWS) -> Iterator[Sequence[T]]:
    """Slices of `page` rows, then the rest in slices of falling powers of two.

    At most log2(page) + 1 distinct slice lengths for any number of rows.
    """
    start, size = 0, page
    while start < len(rows):
        while size > len(rows) - start:
            size //= 2
        yield rows[start : start + size]
        start += size


def padded(values: Sequence[T]) -> list[T]:
    """IN-list values padded to the next power of two by repeating the last one."""
    size = 1
    while size < len(values):
        size *= 2
    return [*values, *[values[-1]] * (size - len(values))] if values else []
