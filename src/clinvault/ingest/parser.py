"""Reading a patient-visit CSV: pure parsing and validation, no I/O.

The file: a header row, UTF-8 (a BOM is accepted), comma-, semicolon- or
tab-separated (detected from the header), RFC 4180 quoting. Required columns
(snake_case or the camelCase of the original export): medical_record_number,
first_name, last_name, date_time, doctors_notes. Unknown columns are reported
once and ignored. Each data row becomes a `ValidRow` or a `RowError` whose
message says how to fix it; a problem of the whole file is a `FileProblem`.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

# The csv module's own limit is set far above ours, so that an over-long field is a
# clean row error from `_check_cells` rather than a reader error that loses the line.
READER_FIELD_LIMIT = 4 * 1024 * 1024
DEFAULT_MAX_FIELD_CHARS = 100_000
MAX_NAME_CHARS = 100
MAX_MRN_CHARS = 32
FUTURE_SKEW = timedelta(minutes=5)
DELIMITERS = (",", ";", "\t")
HEAD_BYTES = 64 * 1024
EXAMPLE = "2025-03-26T10:30:00-07:00"

MRN = "medical_record_number"
FIRST = "first_name"
LAST = "last_name"
WHEN = "date_time"
NOTES = "doctors_notes"
REQUIRED: tuple[str, ...] = (MRN, FIRST, LAST, WHEN, NOTES)
ALIASES: dict[str, str] = {
    "medicalRecordNumber": MRN,
    "firstName": FIRST,
    "lastName": LAST,
    "dateTime": WHEN,
    "doctorsNotes": NOTES,
}
_MRN = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,31}")
_NAME_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NOTES_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

csv.field_size_limit(READER_FIELD_LIMIT)


class FileProblem(ValueError):
    """The file as a whole cannot be read; `code` is machine-readable, str() says how to fix."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class ValidRow:
    line: int
    mrn: str
    first_name: str
    last_name: str
    recorded_at: datetime
    notes: str


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    cells: tuple[str, ...]
    column: str | None
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Header:
    columns: tuple[str, ...]
    """The header cells as written."""
    positions: dict[str, int]
    """Canonical required column -> its index."""
    unknown: tuple[str, ...]
    delimiter: str


def guess_encoding(sample: bytes) -> str:
    """A short human name of the likely encoding of bytes that are not UTF-8."""
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16"
    if sample[:200].count(b"\x00") > len(sample[:200]) // 4:
        return "UTF-16 (without a byte order mark)"
    if all(byte not in b"\x81\x8d\x8f\x90\x9d" for byte in sample):
        return "Windows-1252 (Western European, often called ANSI or Latin-1)"
    return "a legacy 8-bit code page"


def not_utf8(sample: bytes, offset: int) -> FileProblem:
    return FileProblem(
        "not_utf8",
        f"The file is not UTF-8 (first bad byte at offset {offset}); it looks like "
        f"{guess_encoding(sample)}. Save it as 'CSV UTF-8' and upload it again.",
    )


def check_head(head: bytes, *, complete: bool) -> Header:
    """Check the first bytes of a file (all of it when `complete`): encoding and header.

    Raises `FileProblem` for an empty file, a binary file, a non-UTF-8 file and a
    header without a required column.
    """
    if not head.strip(b"\xef\xbb\xbf \t\r\n"):
        raise FileProblem(
            "file_empty", "The file is empty: export the visits with a header row and upload it."
        )
    if head.startswith((b"%PDF", b"PK\x03\x04", b"\x89PNG", b"\xff\xd8\xff", b"\xd0\xcf\x11\xe0")):
        raise FileProblem(
            "file_not_csv",
            "The file is not a CSV file (it looks like a PDF, spreadsheet or image): export "
            "the sheet as 'CSV UTF-8' and upload that.",
        )
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise not_utf8(head, 0)
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is not an error.
        if complete or exc.start < len(head) - 3:
            raise not_utf8(head, exc.start) from None
        text = head[: exc.start].decode("utf-8")
    if "\x00" in text:
        raise FileProblem(
            "file_not_csv",
            "The file holds NUL bytes, so it is not a text CSV file: export it as 'CSV UTF-8'.",
        )
    first = text.removeprefix("\ufeff").splitlines()[0] if text.strip() else ""
    return read_header(first)


def sniff_delimiter(line: str) -> str:
    """The delimiter used most outside quotes in the header line (comma on a tie)."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    return max(DELIMITERS, key=lambda d: (counts[d], d == ","))


def read_header(line: str) -> Header:
    delimiter = sniff_delimiter(line)
    cells = next(csv.reader([line], delimiter=delimiter), [])
    positions: dict[str, int] = {}
    unknown: list[str] = []
    for index, raw in enumerate(cells):
        name = raw.strip()
        canonical = ALIASES.get(name, name)
        if canonical in REQUIRED and canonical not in positions:
            positions[canonical] = index
        else:
            unknown.append(name)
    missing = [name for name in REQUIRED if name not in positions]
    if missing:
        raise FileProblem(
            "header_invalid",
            f"The header row lacks {', '.join(missing)}: the first row must name the columns "
            f"{', '.join(REQUIRED)} (camelCase such as medicalRecordNumber is accepted too).",
        )
    return Header(tuple(cells), positions, tuple(unknown), delimiter)


class RowReader:
    """Iterates the data rows of a text stream (opened with newline='').

    `header` is read on construction. Lines are counted from 1 (the header). Rows that
    start on a line up to `skip_through` (a resumed job's checkpoint) are read past
    without being validated or yielded.
    """

    def __init__(
        self,
        lines: Iterable[str],
        *,
        timezone: ZoneInfo | None = None,
        max_field_chars: int = DEFAULT_MAX_FIELD_CHARS,
        now: datetime | None = None,
        skip_through: int = 0,
    ) -> None:
        self._lines = iter(lines)
        self._skip = skip_through
        self._timezone = timezone
        self._max_field = max_field_chars
        self._now = now
        first = next(self._lines, "")
        self.header = read_header(first.removeprefix("\ufeff").rstrip("\r\n"))
        self._reader = csv.reader(self._lines, delimiter=self.header.delimiter, strict=True)

    def __iter__(self) -> Iterator[ValidRow | RowError]:
        now = self._now or datetime.now(UTC)
        width = len(self.header.columns)
        while True:
            line = self._reader.line_num + 2
            try:
                cells = next(self._reader)
            except StopIteration:
                return
            except csv.Error as exc:
                if line > self._skip:
                    yield _reader_error(line, str(exc), self._max_field)
                if "unexpected end of data" in str(exc):
                    return
                continue
            if line <= self._skip or not cells or (len(cells) == 1 and not cells[0].strip()):
                continue  # already written by an earlier run, or a blank line
            yield self._row(line, cells, width, now)

    def _row(self, line: int, cells: list[str], width: int, now: datetime) -> ValidRow | RowError:
        kept = tuple(cells)
        if len(cells) != width:
            fewer = len(cells) < width
            return RowError(
                line,
                kept,
                None,
                "too_few_fields" if fewer else "too_many_fields",
                f"The row has {len(cells)} fields, the header {width}: "
                + (
                    "add the missing cells (empty ones still need their delimiter)."
                    if fewer
                    else "quote cells that contain the delimiter, or remove the extra cells."
                ),
            )
        for index, cell in enumerate(cells):
            if "\x00" in cell:
                return RowError(
                    line,
                    kept,
                    self.header.columns[index],
                    "nul_byte",
                    "The cell holds a NUL byte: remove it (it is not text).",
                )
            if len(cell) > self._max_field:
                return RowError(
                    line,
                    kept,
                    self.header.columns[index],
                    "field_too_long",
                    f"The cell has {len(cell)} characters; at most {self._max_field} are "
                    "accepted: shorten it or split the note across visits.",
                )
        position = self.header.positions
        return validate_row(
            line,
            kept,
            mrn=cells[position[MRN]],
            first_name=cells[position[FIRST]],
            last_name=cells[position[LAST]],
            when=cells[position[WHEN]],
            notes=cells[position[NOTES]],
            timezone=self._timezone,
            now=now,
        )


def _reader_error(line: int, reason: str, limit: int) -> RowError:
    if "field larger than field limit" in reason:
        return RowError(
            line,
            (),
            None,
            "field_too_long",
            f"A cell is far longer than the {limit} characters accepted: shorten it.",
        )
    if "unexpected end of data" in reason:
        return RowError(
            line,
            (),
            None,
            "unterminated_quote",
            "A quoted cell that starts on this line is never closed, so the rest of the "
            'file was read into it: add the closing quote (write "" for a quote inside a cell).',
        )
    return RowError(
        line,
        (),
        None,
        "row_malformed",
        'The row is not valid CSV: quote cells holding quotes, delimiters or line breaks ("").',
    )


def validate_row(
    line: int,
    cells: tuple[str, ...],
    *,
    mrn: str,
    first_name: str,
    last_name: str,
    when: str,
    notes: str,
    timezone: ZoneInfo | None,
    now: datetime,
) -> ValidRow | RowError:
    def error(column: str, code: str, message: str) -> RowError:
        return RowError(line, cells, column, code, message)

    mrn = mrn.strip()
    if not mrn:
        return error(MRN, "mrn_missing", "The medical record number is empty: fill it in.")
    if not _MRN.fullmatch(mrn):
        return error(
            MRN,
            "mrn_invalid",
            f"The medical record number may hold only letters, digits and '-' (at most "
            f"{MAX_MRN_CHARS}, starting with a letter or digit): correct it.",
        )
    names: list[str] = []
    for column, value in ((FIRST, first_name), (LAST, last_name)):
        text = unicodedata.normalize("NFC", value.strip())
        if not text:
            return error(column, "name_missing", f"{column} is empty: fill it in.")
        if len(text) > MAX_NAME_CHARS or _NAME_CONTROL.search(text):
            return error(
                column,
                "name_invalid",
                f"{column} must be at most {MAX_NAME_CHARS} characters without control "
                "characters or line breaks: correct it.",
            )
        names.append(text)
    recorded = parse_date_time(when, timezone)
    if isinstance(recorded, tuple):
        return error(WHEN, *recorded)
    if recorded > now + FUTURE_SKEW:
        return error(
            WHEN, "date_time_in_future", "The visit is in the future: check the date and offset."
        )
    body = notes.strip()
    if not body:
        return error(NOTES, "notes_missing", "The doctor's notes are empty: fill them in.")
    if _NOTES_CONTROL.search(body):
        return error(
            NOTES,
            "notes_invalid",
            "The notes hold control characters: remove them (line breaks and tabs are fine).",
        )
    return ValidRow(line, mrn, names[0], names[1], recorded, body)


def parse_date_time(value: str, timezone: ZoneInfo | None) -> datetime | tuple[str, str]:
    """The instant in UTC, or (code, message saying how to fix the text)."""
    text = value.strip()
    if not text:
        return ("date_time_missing", f"The date-time is empty: write it as {EXAMPLE}.")
    try:
        parsed = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return (
            "date_time_invalid",
            "The date-time is not an ISO-8601 calendar date and time (or the date does not "
            f"exist, such as 2025-02-30): write it as {EXAMPLE}.",
        )
    if len(text) < 11 or text[10] not in "Tt ":
        return ("date_time_invalid", f"Give a time as well as the date: {EXAMPLE}.")
    if parsed.tzinfo is None:
        if timezone is None:
            return (
                "date_time_without_offset",
                f"The date-time has no UTC offset: add one ({EXAMPLE}), or start the import "
                "with a time zone.",
            )
        parsed = parsed.replace(tzinfo=timezone)
    return parsed.astimezone(UTC)
