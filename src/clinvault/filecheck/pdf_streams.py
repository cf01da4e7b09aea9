"""Decoded-size limits for every PDF stream filter, image codecs included.

A few kilobytes of Flate, LZW or RunLength data can expand to gigabytes, and a JBIG2
image of a few bytes can declare a page of billions of pixels: a reader that opens
such a file exhausts its memory. Byte filters are decoded here with a cap on what
they may produce (never by a decoder without one); image codecs (DCT, JPX, JBIG2,
CCITT) are bounded by their pixel counts, read from the image dictionary and, for
JBIG2, from the page and region headers inside the data itself.
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib
from dataclasses import dataclass

import pikepdf

_CHUNK = 64 * 1024
_BYTE_FILTERS = frozenset(
    {"/FlateDecode", "/Fl", "/LZWDecode", "/LZW", "/ASCIIHexDecode", "/AHx"}
    | {"/ASCII85Decode", "/A85", "/RunLengthDecode", "/RL", "/Crypt"}
)
_IMAGE_FILTERS = frozenset(
    {"/DCTDecode", "/DCT", "/JPXDecode", "/JBIG2Decode", "/CCITTFaxDecode", "/CCF"}
)
_JBIG2_PAGE_INFO = 48
_JBIG2_END_OF_FILE = 51
# Immediate text, halftone and generic (refinement) regions start with a region
# information field whose first eight bytes are its width and height.
_JBIG2_REGION_TYPES = frozenset({6, 7, 22, 23, 38, 39, 40, 42, 43})
_UNKNOWN_LENGTH = 0xFFFFFFFF
_NOT_HEX = re.compile(rb"[^0-9A-Fa-f]")
_WHITESPACE = b" \t\r\n\x0c\x00"


class TooLarge(Exception):
    """A stream decodes, or an image expands, past the limits."""


@dataclass
class Budget:
    """How much every stream of one file may decode to, in total, and how many pixels
    one image may have."""

    max_pixels: int
    remaining_bytes: int

    def spend(self, produced: int) -> None:
        self.remaining_bytes -= produced
        if self.remaining_bytes < 0:
            raise TooLarge


def check_streams(pdf: pikepdf.Pdf, budget: Budget) -> None:
    """Raises TooLarge when any stream in the file, or all of them together, would
    decode past the budget. Streams whose data is damaged count what they produced
    before the damage; qpdf's own checks judge the damage."""
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Stream):
            _check_stream(obj, budget)


def _check_stream(stream: pikepdf.Stream, budget: Budget) -> None:
    info = stream.stream_dict
    filters = _names(info.get("/Filter"))
    params = _params(info.get("/DecodeParms"), len(filters))
    if _is_image(info):
        _check_pixels(_int(info.get("/Width")), _int(info.get("/Height")), budget)
    if not filters or (filters[0] in _IMAGE_FILTERS and filters[0] != "/JBIG2Decode"):
        # Nothing here decodes these bytes (raw data, or an image bounded by its pixels):
        # no copy of a stream that can be as large as the file.
        return
    try:
        data = stream.read_raw_bytes()
    except pikepdf.PdfError:
        return
    for index, name in enumerate(filters):
        if name in _IMAGE_FILTERS:
            if name == "/JBIG2Decode":
                _check_jbig2(data, params[index], budget)
            return
        if name not in _BYTE_FILTERS:
            return  # an unknown filter: readers cannot decode it either
        # The output is kept only when another filter still has to read it.
        following = filters[index + 1] if index + 1 < len(filters) else None
        sink = _Sink(budget, keep=following in _BYTE_FILTERS or following == "/JBIG2Decode")
        _decode(name, data, params[index], sink)
        data = bytes(sink.kept)


class _Sink:
    """Counts what a decoder produces against the budget, keeping it only on request."""

    def __init__(self, budget: Budget, *, keep: bool) -> None:
        self.budget = budget
        self.keep = keep
        self.kept = bytearray()

    @property
    def room(self) -> int:
        return max(self.budget.remaining_bytes, 0)

    def count(self, produced: int) -> None:
        self.budget.spend(produced)

    def add(self, chunk: bytes) -> None:
        self.budget.spend(len(chunk))
        if self.keep:
            self.kept += chunk


def _decode(name: str, data: bytes, params: pikepdf.Dictionary | None, sink: _Sink) -> None:
    if name in {"/FlateDecode", "/Fl"}:
        _inflate(data, sink)
    elif name in {"/LZWDecode", "/LZW"}:
        early = _int(params.get("/EarlyChange")) if params is not None else None
        _lzw(data, sink, 1 if early is None else early)
    elif name in {"/RunLengthDecode", "/RL"}:
        _run_length(data, sink)
    elif name in {"/ASCIIHexDecode", "/AHx"}:
        sink.add(_ascii_hex(data))
    elif name in {"/ASCII85Decode", "/A85"}:
        sink.add(_ascii85(data))
    else:
        sink.add(data)  # /Crypt: encrypted files are refused on their own


def _inflate(data: bytes, sink: _Sink) -> None:
    inflater = zlib.decompressobj()
    try:
        for start in range(0, len(data), _CHUNK):
            pending = data[start : start + _CHUNK]
            while pending:
                sink.add(inflater.decompress(pending, min(sink.room + 1, _CHUNK * 16)))
                pending = inflater.unconsumed_tail
            if inflater.eof:
                return
        while not inflater.eof:
            chunk = inflater.decompress(b"", _CHUNK * 16)
            if not chunk:
                return
            sink.add(chunk)
    except zlib.error:
        pass  # damaged data produces no more than what came before the damage


def _lzw(data: bytes, sink: _Sink, early_change: int) -> None:
    table: list[bytes] = [bytes([index]) for index in range(256)] + [b"", b""]
    width = 9
    previous: bytes | None = None
    bits = 0
    count = 0
    for byte in data:
        bits = (bits << 8) | byte
        count += 8
        while count >= width:
            count -= width
            code = (bits >> count) & ((1 << width) - 1)
            bits &= (1 << count) - 1
            if code == 256:
                table = table[:258]
                width = 9
                previous = None
                continue
            if code == 257:
                return
            if code < len(table):
                entry = table[code]
                if previous is not None:
                    table.append(previous + entry[:1])
            elif previous is not None and code == len(table):
                entry = previous + previous[:1]
                table.append(entry)
            else:
                return  # damaged data
            sink.add(entry)
            previous = entry
            size = len(table) + early_change
            width = 12 if size >= 2048 else 11 if size >= 1024 else 10 if size >= 512 else 9


def _run_length(data: bytes, sink: _Sink) -> None:
    position = 0
    produced = 0
    size = len(data)
    while position < size:
        length = data[position]
        if length == 128:
            break
        if length < 128:
            run = length + 1
            if sink.keep:
                sink.add(data[position + 1 : position + 1 + run])
            position += 1 + run
        else:
            run = 257 - length
            if sink.keep:
                sink.add(data[position + 1 : position + 2] * run)
            position += 2
        if not sink.keep:
            produced += run
            if produced > _CHUNK * 16:
                sink.count(produced)
                produced = 0
    sink.count(produced)


def _ascii_hex(data: bytes) -> bytes:
    digits = _NOT_HEX.sub(b"", data.split(b">", 1)[0])
    if len(digits) % 2:
        digits += b"0"
    return binascii.unhexlify(digits)


def _ascii85(data: bytes) -> bytes:
    text = data.split(b"~>", 1)[0]
    text = bytes(byte for byte in text if byte not in _WHITESPACE)
    try:
        return base64.a85decode(text)
    except ValueError:
        return b""


# --- images --------------------------------------------------------------------------


def _check_pixels(width: int | None, height: int | None, budget: Budget) -> None:
    if width is not None and height is not None and width * height > budget.max_pixels:
        raise TooLarge


def _check_jbig2(data: bytes, params: pikepdf.Dictionary | None, budget: Budget) -> None:
    _check_jbig2_segments(data, budget)
    if params is not None:
        globals_stream = params.get("/JBIG2Globals")
        if isinstance(globals_stream, pikepdf.Stream):
            try:
                _check_jbig2_segments(globals_stream.read_raw_bytes(), budget)
            except pikepdf.PdfError:
                return


def _check_jbig2_segments(data: bytes, budget: Budget) -> None:
    """Walks the segment headers of embedded JBIG2 data (no file header, sequential
    organisation, as PDF requires) and checks every page and region size."""
    position = 0
    while position + 11 <= len(data):
        header = _jbig2_segment_header(data, position)
        if header is None:
            return
        kind, body_start, length = header
        body = data[body_start : body_start + 8]
        if kind == _JBIG2_PAGE_INFO or kind in _JBIG2_REGION_TYPES:
            if len(body) < 8:
                return
            width = int.from_bytes(body[:4], "big")
            height = int.from_bytes(body[4:8], "big")
            if height == _UNKNOWN_LENGTH and kind == _JBIG2_PAGE_INFO:
                height = 1  # striped page: its stripes are checked as regions
            _check_pixels(width, height, budget)
        if kind == _JBIG2_END_OF_FILE or length == _UNKNOWN_LENGTH:
            return
        position = body_start + length


def _jbig2_segment_header(data: bytes, position: int) -> tuple[int, int, int] | None:
    number = int.from_bytes(data[position : position + 4], "big")
    flags = data[position + 4]
    kind = flags & 0x3F
    referred = data[position + 5]
    position += 6
    count = referred >> 5
    if count == 7:
        count = int.from_bytes(data[position - 1 : position + 3], "big") & 0x1FFFFFFF
        position += 3 + (count + 8) // 8
    reference_size = 1 if number <= 256 else 2 if number <= 65536 else 4
    position += count * reference_size
    position += 4 if flags & 0x40 else 1
    if position + 4 > len(data):
        return None
    length = int.from_bytes(data[position : position + 4], "big")
    return kind, position + 4, length


# --- dictionary helpers --------------------------------------------------------------


def _is_image(info: pikepdf.Dictionary) -> bool:
    subtype = info.get("/Subtype")
    return isinstance(subtype, pikepdf.Name) and str(subtype) == "/Image"


def _names(value: object) -> list[str]:
    if isinstance(value, pikepdf.Name):
        return [str(value)]
    if isinstance(value, pikepdf.Array):
        return [str(item) for item in value if isinstance(item, pikepdf.Name)]
    return []


def _params(value: object, count: int) -> list[pikepdf.Dictionary | None]:
    if isinstance(value, pikepdf.Dictionary):
        return [value] + [None] * max(0, count - 1)
    if isinstance(value, pikepdf.Array):
        items: list[pikepdf.Dictionary | None] = [
            item if isinstance(item, pikepdf.Dictionary) else None for item in value
        ]
        return (items + [None] * count)[: max(count, 1)]
    return [None] * max(count, 1)


def _int(value: object) -> int | None:
    # pikepdf hands PDF integers over as Python ints.
    return value if isinstance(value, int) and not isinstance(value, bool) else None
