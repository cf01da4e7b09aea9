"""The pure CSV parser: format detection, row validation, and round trips."""

from __future__ import annotations

import csv
import io
import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinvault.ingest.parser import (
    FileProblem,
    RowError,
    RowReader,
    ValidRow,
    check_head,
    sniff_delimiter,
)
from clinvault.ingest.report import escape_cell, report_text

HEADER = "medical_record_number,first_name,last_name,date_time,doctors_notes"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def rows(text: str, **options: object) -> list[ValidRow | RowError]:
    return list(RowReader(io.StringIO(text, newline=""), now=NOW, **options))  # type: ignore[arg-type]


def only_error(text: str, **options: object) -> RowError:
    [row] = rows(text, **options)
    assert isinstance(row, RowError), row
    return row


def test_bom_semicolons_camel_case_and_unknown_columns() -> None:
    text = (
        "\ufeffmedicalRecordNumber;firstName;lastName;dateTime;doctorsNotes;ward\r\n"
        'A-1;Ann;Lee;2025-03-26T10:30:00-07:00;"a; b ""c""\r\nd";3\r\n'
    )
    reader = RowReader(io.StringIO(text, newline=""), now=NOW)
    assert reader.header.delimiter == ";"
    assert reader.header.unknown == ("ward",)
    [row] = list(reader)
    assert row == ValidRow(
        2, "A-1", "Ann", "Lee", datetime(2025, 3, 26, 17, 30, tzinfo=UTC), 'a; b "c"\r\nd'
    )


def test_tab_separated() -> None:
    assert sniff_delimiter(HEADER.replace(",", "\t")) == "\t"


@pytest.mark.parametrize(
    ("line", "code", "column"),
    [
        ("A,Ann,Lee,2025-02-30T10:00:00Z,n", "date_time_invalid", "date_time"),
        ("A,Ann,Lee,2025-03-01T10:00:00,n", "date_time_without_offset", "date_time"),
        ("A,Ann,Lee,2025-03-01,n", "date_time_invalid", "date_time"),
        ("A,Ann,Lee,2030-03-01T10:00:00Z,n", "date_time_in_future", "date_time"),
        ("A B,Ann,Lee,2025-03-01T10:00:00Z,n", "mrn_invalid", "medical_record_number"),
        ("A;1,Ann,Lee,2025-03-01T10:00:00Z,n", "mrn_invalid", "medical_record_number"),
        ("A,Ann,Lee,2025-03-01T10:00:00Z,  ", "notes_missing", "doctors_notes"),
        ("A,,Lee,2025-03-01T10:00:00Z,n", "name_missing", "first_name"),
        ('A,Ann,Lee,2025-03-01T10:00:00Z,"x\x00y"', "nul_byte", "doctors_notes"),
        ("A,Ann,Lee,2025-03-01T10:00:00Z", "too_few_fields", None),
        ("A,Ann,Lee,2025-03-01T10:00:00Z,n,extra", "too_many_fields", None),
    ],
)
def test_row_errors_say_what_and_where(line: str, code: str, column: str | None) -> None:
    error = only_error(f"{HEADER}\n{line}\n")
    assert (error.line, error.code, error.column) == (2, code, column)
    assert error.message.endswith(".")


def test_a_time_zone_makes_local_times_acceptable() -> None:
    [row] = rows(f"{HEADER}\nA,Ann,Lee,2025-07-01T10:00:00,n\n", timezone=ZoneInfo("Europe/Paris"))
    assert isinstance(row, ValidRow)
    assert row.recorded_at == datetime(2025, 7, 1, 8, 0, tzinfo=UTC)


def test_an_over_long_field_is_a_row_error_and_later_rows_still_read() -> None:
    long = "x" * 300_000
    text = f"{HEADER}\nA,Ann,Lee,2025-03-01T10:00:00Z,{long}\nB,Bo,Li,2025-03-01T10:00:00Z,n\n"
    first, second = rows(text)
    assert isinstance(first, RowError)
    assert first.code == "field_too_long"
    assert isinstance(second, ValidRow)
    assert second.line == 3


def test_an_unterminated_quote_is_reported_with_its_line() -> None:
    text = f'{HEADER}\nA,Ann,Lee,2025-03-01T10:00:00Z,ok\nB,Bo,Li,2025-03-01T10:00:00Z,"open\n'
    first, second = rows(text)
    assert isinstance(first, ValidRow)
    assert isinstance(second, RowError)
    assert second.code == "unterminated_quote"
    assert second.line == 3


@pytest.mark.parametrize(
    ("head", "code"),
    [
        (b"", "file_empty"),
        (b"\xef\xbb\xbf\r\n", "file_empty"),
        (b"%PDF-1.7\n...", "file_not_csv"),
        (b"a,b\x00,c\n", "file_not_csv"),
        (b"medical_record_number,first_name\n", "header_invalid"),
        (
            "medical_record_number,first_name,last_name,date_time,doctors_notes\nA,Jos\xe9".encode(
                "cp1252"
            ),
            "not_utf8",
        ),
        ("medical_record_number".encode("utf-16"), "not_utf8"),
    ],
)
def test_whole_file_problems(head: bytes, code: str) -> None:
    with pytest.raises(FileProblem) as caught:
        check_head(head, complete=True)
    assert caught.value.code == code


def test_not_utf8_names_the_likely_encoding() -> None:
    with pytest.raises(FileProblem, match="Windows-1252"):
        check_head(f"{HEADER}\nA,Jos\xe9,Lee".encode("cp1252"), complete=True)


def test_a_character_cut_at_the_end_of_the_sample_is_not_an_error() -> None:
    sample = f"{HEADER}\nA,José".encode()[:-1]
    assert check_head(sample, complete=False).delimiter == ","


@pytest.mark.parametrize("value", ["=SUM(A1)", "+1", "-2", "@cmd", "\tx"])
def test_report_cells_that_a_spreadsheet_would_run_are_escaped(value: str) -> None:
    assert escape_cell(value) == "'" + value
    text = report_text([(2, "doctors_notes", "notes_missing", "m", [value, "plain"])])
    assert list(csv.reader(io.StringIO(text)))[1] == [
        "2",
        "doctors_notes",
        "notes_missing",
        "m",
        "'" + value,
        "plain",
    ]


names = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=40
).filter(lambda s: s.strip() == s and s != "" and unicodedata.normalize("NFC", s) == s)
notes = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs",), blacklist_characters="\x00\x0b\x0c\x1c\x1d\x1e\x1f\x85\x7f"
    ),
    min_size=1,
    max_size=200,
).filter(lambda s: s.strip() == s and not any(ord(c) < 32 and c not in "\t\n\r" for c in s))
mrns = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9-]{0,31}", fullmatch=True)
instants = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2025, 12, 1), timezones=st.just(UTC)
)
offsets = st.integers(min_value=-12 * 60, max_value=14 * 60).map(
    lambda m: timezone(timedelta(minutes=m))
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(mrns, names, names, instants, offsets, notes), min_size=1, max_size=8),
    st.sampled_from([",", ";", "\t"]),
)
def test_written_rows_read_back_unchanged(
    data: list[tuple[str, str, str, datetime, timezone, str]], delimiter: str
) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL)
    writer.writerow(HEADER.split(","))
    for mrn, first, last, instant, offset, note in data:
        writer.writerow([mrn, first, last, instant.astimezone(offset).isoformat(), note])
    parsed = rows(buffer.getvalue())
    assert all(isinstance(row, ValidRow) for row in parsed), parsed
    assert [(r.mrn, r.first_name, r.last_name, r.recorded_at, r.notes) for r in parsed] == [  # type: ignore[union-attr]
        (mrn, first, last, instant, note) for mrn, first, last, instant, _, note in data
    ]
