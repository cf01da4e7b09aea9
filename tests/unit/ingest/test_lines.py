"""Lines decoded from byte chunks (the same lines a file opened with newline="" gives),
and the fixed statement shapes and statistics refreshes of bulk writes."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinvault.batching import padded, pages
from clinvault.ingest import processing
from clinvault.ingest.lines import ChunkLines
from clinvault.ingest.parser import FileProblem, RowError, RowReader, ValidRow

NOW = datetime(2026, 1, 1, tzinfo=UTC)
HEADER = "medical_record_number,first_name,last_name,date_time,doctors_notes\r\n"


def chunked(data: bytes, size: int) -> ChunkLines:
    pieces: Iterator[bytes] = iter([data[i : i + size] for i in range(0, len(data), size)])
    return ChunkLines(lambda: next(pieces, None))


def file_lines(data: bytes) -> list[str]:
    with io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="") as text:
        return list(text)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "é", "€", "𝄞", "\r", "\n", "\r\n", '"', ","]), max_size=60),
    st.integers(min_value=1, max_value=9),
    st.booleans(),
)
def test_lines_match_a_text_file_for_any_chunking(parts: list[str], size: int, bom: bool) -> None:
    data = ("\ufeff" if bom else "").encode() + "".join(parts).encode()
    lines = chunked(data, size)
    assert list(lines) == file_lines(data)
    assert lines.bytes_read == len(data)


def test_crlf_split_between_chunks_is_one_line_end() -> None:
    assert list(chunked(b"ab\r\ncd\r", 3)) == ["ab\r\n", "cd\r"]


def test_not_utf8_names_the_encoding_and_the_offset() -> None:
    data = b"x" * 100 + "caf\u00e9\n".encode("cp1252")
    with pytest.raises(FileProblem) as raised:
        list(chunked(data, 7))
    assert raised.value.code == "not_utf8"
    assert "offset 103" in raised.value.message
    assert "Windows-1252" in raised.value.message


def test_a_truncated_character_at_the_end_is_not_utf8() -> None:
    with pytest.raises(FileProblem, match="not UTF-8"):
        list(chunked(b"abc\n\xe2\x82", 2))


def test_rows_from_chunks_equal_rows_from_a_file() -> None:
    body = (
        HEADER
        + 'A-1,Ann,Lee,2025-03-26T10:30:00-07:00,"multi\r\nline, ""quoted"""\r\n'
        + "A-2,Bob,Ray,2025-02-30T10:00:00Z,bad date\r\n"
        + "A-3,Cy,Do,2025-01-01T00:00:00Z,fine\r\n"
    ).encode()
    expected = list(RowReader(io.StringIO(body.decode(), newline=""), now=NOW))
    for size in (1, 2, 5, 64):
        assert list(RowReader(chunked(body, size), now=NOW)) == expected
    assert [type(row) for row in expected] == [ValidRow, RowError, ValidRow]


def test_rows_up_to_the_checkpoint_are_skipped_with_their_errors() -> None:
    body = (
        HEADER
        + 'A-1,Ann,Lee,2025-03-26T10:30:00-07:00,"two\nlines"\n'
        + "A-2,Bob,Ray,not a date,bad\n"
        + "A-3,Cy,Do,2025-01-01T00:00:00Z,fine\n"
    ).encode()
    every = list(RowReader(chunked(body, 4), now=NOW))
    assert [row.line for row in every] == [2, 4, 5]
    resumed = list(RowReader(chunked(body, 4), now=NOW, skip_through=4))
    assert resumed == every[2:]


@pytest.mark.parametrize("count", [0, 1, 2, 3, 127, 128, 129, 255, 1000, 1001])
def test_pages_cover_every_row_in_few_shapes(count: int) -> None:
    rows = list(range(count))
    sliced = list(pages(rows))
    assert [row for page in sliced for row in page] == rows
    assert {len(page) for page in sliced} <= {128, 64, 32, 16, 8, 4, 2, 1}


def test_padded_lists_keep_their_values_and_have_power_of_two_lengths() -> None:
    assert padded([]) == []
    assert padded(["a", "b", "c"]) == ["a", "b", "c", "c"]
    assert {len(padded(list(range(n)))) for n in range(1, 1025)} == {2**k for k in range(11)}


@pytest.mark.parametrize(
    ("before", "after", "refresh"),
    [
        (0, 999, False),
        (0, 1000, True),
        (999, 1000, True),
        (1000, 1999, False),
        (1500, 2500, True),
        (5000, 7000, False),
        (7000, 9000, True),
        (0, 0, False),
    ],
)
def test_statistics_are_refreshed_each_time_the_rows_written_double(
    before: int, after: int, refresh: bool
) -> None:
    assert processing._doubled(before, after) is refresh
