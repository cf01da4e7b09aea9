"""Every byte of a PDF accounted for: a walk over the file's top-level syntax.

A PDF is a header, then indirect objects, cross-reference sections, trailers,
`startxref` pointers and `%%EOF` markers (an incremental update repeats the last four),
with only whitespace and short comments between them. Anything else (a ZIP, an HTML
page, an executable) is data that a PDF reader skips and another program may open:
a polyglot. qpdf reads such files without a word, so the layout is checked here.
"""

from __future__ import annotations

import mmap
import re
from collections.abc import Callable
from dataclasses import dataclass

PdfBytes = bytes | mmap.mmap
"""The file's bytes, or a read-only map of them: the walk skips stream data by its
declared length, so a mapped file's large streams are never read into memory."""

# Comments between objects are short in every writer (the binary-marker line after the
# header, "% producer" notes); a long one can carry a whole second file.
MAX_TOP_LEVEL_COMMENT = 256
_ZIP_END_RECORD = b"PK\x05\x06"
_ZIP_CENTRAL_ENTRY = b"PK\x01\x02"
_ZIP_SEARCH_WINDOW = 65_535 + 22

_WS = rb"\x00\t\n\x0c\r "
_SPACE = rb"[" + _WS + rb"]"
_REGULAR = rb"[^" + _WS + rb"()<>\[\]{}/%]"
_TOKEN = re.compile(
    rb"(?P<ws>[" + _WS + rb"]+)"
    rb"|(?P<comment>%[^\r\n]*)"
    rb"|(?P<string>\()"
    rb"|(?P<open><<)|(?P<close>>>)"
    rb"|(?P<hex><[^<>]*>)"
    rb"|(?P<delim>[\[\]{}])"
    rb"|(?P<name>/[^" + _WS + rb"()<>\[\]{}/%]*)"
    rb"|(?P<word>[^" + _WS + rb"()<>\[\]{}/%]+)"
)
_OBJECT_HEADER = re.compile(
    rb"(\d+)" + _SPACE + rb"+(\d+)" + _SPACE + rb"*obj(?!" + _REGULAR + rb")"
)
_STRING_EVENT = re.compile(rb"[()\\]")
_XREF_SUBSECTION = re.compile(rb"[" + _WS + rb"]*(\d+)[ \t]+(\d+)[ \t]*(?:\r\n|\r|\n)")
_XREF_ENTRY = re.compile(rb"\d{10}[ \t]+\d{5}[ \t]+[nf][ \t]*(?:\r\n|\r|\n)?")
_LENGTH = re.compile(rb"/Length" + _SPACE + rb"+(\d+)(?:" + _SPACE + rb"+(\d+)" + _SPACE + rb"+R)?")
_XREF_STREAM_TYPE = re.compile(rb"/Type[" + _WS + rb"]*/XRef(?![A-Za-z0-9])")
_ENDSTREAM = re.compile(rb"[" + _WS + rb"]*endstream")

LengthResolver = Callable[[int, int], int | None]


class LayoutError(Exception):
    """The bytes at `offset` are not part of the PDF's syntax."""

    def __init__(self, offset: int, trailing: bool = False) -> None:
        super().__init__(offset)
        self.offset = offset
        self.trailing = trailing


@dataclass
class Layout:
    """What the walk found: where the cross-reference sections start and where the
    last `startxref` points."""

    sections: list[int]
    last_startxref: int | None
    end_of_last_eof: int


def walk(data: PdfBytes, resolve_length: LengthResolver) -> Layout:
    """Walks the whole file. Raises LayoutError at the first byte that no object,
    cross-reference section, trailer, pointer, comment or whitespace accounts for, or
    (with `trailing` set) when anything but whitespace follows the last section's
    trailer, pointer and `%%EOF`."""
    return _Walker(data, resolve_length).run()


def opens_as_zip(data: PdfBytes) -> bool:
    """True when a ZIP reader would find an archive: an end-of-central-directory record
    near the end whose central directory really is where the record says, just
    before it. Random stream bytes essentially never satisfy both."""
    start = max(0, len(data) - _ZIP_SEARCH_WINDOW)
    position = data.rfind(_ZIP_END_RECORD, start)
    while position >= 0:
        record = data[position : position + 22]
        if len(record) == 22:
            directory_size = int.from_bytes(record[12:16], "little")
            directory_start = position - directory_size
            if (
                directory_size > 0
                and directory_start >= 0
                and data[directory_start : directory_start + 4] == _ZIP_CENTRAL_ENTRY
            ):
                return True
        position = data.rfind(_ZIP_END_RECORD, start, position)
    return False


class _Walker:
    def __init__(self, data: PdfBytes, resolve_length: LengthResolver) -> None:
        self.data = data
        self.resolve_length = resolve_length
        self.sections: list[int] = []
        self.last_startxref: int | None = None
        self.end_of_last_eof = 0
        self.objects_after_section = False

    def run(self) -> Layout:
        data = self.data
        position = 0
        size = len(data)
        while position < size:
            token = _TOKEN.match(data, position)
            if token is None:
                raise LayoutError(position)
            kind = token.lastgroup
            if kind == "ws":
                position = token.end()
            elif kind == "comment":
                position = self._comment(token)
            elif kind == "word" and token.group() == b"xref":
                self._section_starts(position)
                position = self._xref_table(token.end())
            elif kind == "word" and token.group() == b"trailer":
                position = self._trailer(token.end())
            elif kind == "word" and token.group() == b"startxref":
                position = self._startxref(token.end())
            elif kind == "word" and token.group()[:1].isdigit():
                position = self._indirect_object(position)
            else:
                raise LayoutError(position, trailing=self._past_last_section())
        self._check_end()
        return Layout(self.sections, self.last_startxref, self.end_of_last_eof)

    # --- top level -------------------------------------------------------------------

    def _comment(self, token: re.Match[bytes]) -> int:
        text = token.group()
        if text.startswith(b"%%EOF"):
            self.end_of_last_eof = token.start() + 5
            if text[5:].strip(b"\x00\t\x0c "):
                raise LayoutError(token.start() + 5, trailing=self._past_last_section())
        elif len(text) > MAX_TOP_LEVEL_COMMENT:
            raise LayoutError(token.start(), trailing=self._past_last_section())
        return token.end()

    def _section_starts(self, position: int) -> None:
        self.sections.append(position)
        self.objects_after_section = False

    def _past_last_section(self) -> bool:
        return bool(self.sections) and self.last_startxref is not None

    def _xref_table(self, position: int) -> int:
        data = self.data
        while True:
            subsection = _XREF_SUBSECTION.match(data, position)
            if subsection is None:
                return position
            position = subsection.end()
            for _ in range(int(subsection.group(2))):
                entry = _XREF_ENTRY.match(data, position)
                if entry is None:
                    raise LayoutError(position)
                position = entry.end()

    def _trailer(self, position: int) -> int:
        position = self._skip_space(position)
        if self.data[position : position + 2] != b"<<":
            raise LayoutError(position)
        end, _ = self._value_until(position, stop_words=())
        return end

    def _startxref(self, position: int) -> int:
        position = self._skip_space(position)
        token = _TOKEN.match(self.data, position)
        if token is None or token.lastgroup != "word" or not token.group().isdigit():
            raise LayoutError(position)
        self.last_startxref = int(token.group())
        return token.end()

    def _indirect_object(self, position: int) -> int:
        header = _OBJECT_HEADER.match(self.data, position)
        if header is None:
            raise LayoutError(position, trailing=self._past_last_section())
        if self._past_last_section():
            self.objects_after_section = True
        body_start = header.end()
        end, stopped_at = self._value_until(body_start, stop_words=(b"endobj", b"stream"))
        if stopped_at == b"stream":
            dictionary = self.data[body_start:end]
            if _XREF_STREAM_TYPE.search(dictionary):
                self._section_starts(position)
            end = self._stream_data(end, dictionary)
            end, stopped_at = self._value_until(end, stop_words=(b"endobj",))
        if stopped_at != b"endobj":
            raise LayoutError(end)
        return end + len(b"endobj")

    def _check_end(self) -> None:
        if not self.sections or self.last_startxref is None:
            raise LayoutError(len(self.data))
        if self.objects_after_section:
            raise LayoutError(self.sections[-1], trailing=True)
        # A linearized file's last pointer names its first-page section, near the start.
        if self._skip_space(self.last_startxref) not in self.sections:
            raise LayoutError(self.sections[-1], trailing=True)
        if self.data[self.end_of_last_eof :].strip(bytes(_WS_CHARS)):
            raise LayoutError(self.end_of_last_eof, trailing=True)

    # --- inside objects --------------------------------------------------------------

    def _value_until(self, position: int, stop_words: tuple[bytes, ...]) -> tuple[int, bytes]:
        """Skips PDF values from `position`. With stop words, returns the offset of the
        first one met at depth 0 and the word; without, returns the end of the one
        dictionary or array that starts at `position`."""
        data = self.data
        size = len(data)
        depth = 0
        while position < size:
            token = _TOKEN.match(data, position)
            if token is None:
                raise LayoutError(position)
            kind = token.lastgroup
            if kind == "string":
                position = self._string_end(token.end())
                continue
            if kind in {"open"} or (kind == "delim" and token.group() == b"["):
                depth += 1
            elif kind in {"close"} or (kind == "delim" and token.group() == b"]"):
                depth -= 1
                if depth < 0:
                    raise LayoutError(position)
                if depth == 0 and not stop_words:
                    return token.end(), b""
            elif kind == "word" and token.group() in stop_words and depth == 0:
                return position, token.group()
            elif kind == "word" and token.group() in {b"endobj", b"obj", b"xref", b"trailer"}:
                raise LayoutError(position)
            position = token.end()
        raise LayoutError(size)

    def _string_end(self, position: int) -> int:
        depth = 1
        data = self.data
        while depth:
            event = _STRING_EVENT.search(data, position)
            if event is None:
                raise LayoutError(len(data))
            char = event.group()
            if char == b"\\":
                position = event.end() + 1
                continue
            depth += 1 if char == b"(" else -1
            position = event.end()
        return position

    def _stream_data(self, keyword_at: int, dictionary: bytes) -> int:
        data = self.data
        start = keyword_at + len(b"stream")
        while data[start : start + 1] in {b" ", b"\t"}:  # a few writers pad the keyword
            start += 1
        if data[start : start + 2] == b"\r\n":
            start += 2
        elif data[start : start + 1] in {b"\n", b"\r"}:
            start += 1
        else:
            raise LayoutError(start)
        length = self._declared_length(dictionary)
        if length is not None:
            end = _ENDSTREAM.match(data, start + length)
            if end is not None:
                return end.end()
        found = data.find(b"endstream", start)
        if found < 0:
            raise LayoutError(start)
        return found + len(b"endstream")

    def _declared_length(self, dictionary: bytes) -> int | None:
        match = _LENGTH.search(dictionary)
        if match is None:
            return None
        if match.group(2) is None:
            return int(match.group(1))
        return self.resolve_length(int(match.group(1)), int(match.group(2)))

    def _skip_space(self, position: int) -> int:
        data = self.data
        while position < len(data) and data[position] in _WS_CHARS:
            position += 1
        return position


_WS_CHARS = frozenset(b"\x00\t\n\x0c\r ")
