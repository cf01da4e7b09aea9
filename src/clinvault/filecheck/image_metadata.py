"""Script and web markup hidden in an image's metadata segments.

An image is stored byte for byte (its checksum is part of the record), so metadata is
not stripped: an image whose metadata carries script or markup is refused instead,
and the uploader exports it again without metadata. Two rules, by segment:
- free text (JPEG COM, PNG tEXt, zTXt and iTXt other than XMP) may hold no markup at
  all: no "<" opening a tag, comment, declaration or processing instruction;
- every segment, XMP, Exif, ICC, IPTC and other APPn data included, may hold no
  script: no script-capable HTML or SVG element, no event handler attribute, no
  javascript:/vbscript:/data:text/html URL, and (in text) no server-side template.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator

# Text chunks are small; a compressed one that inflates past this is refused too.
MAX_TEXT_BYTES = 1024 * 1024
_PNG_SIGNATURE_LENGTH = 8
_XMP_KEYWORD = b"XML:com.adobe.xmp"
# A tag, end tag, comment, declaration or processing instruction starts right after "<".
_MARKUP = re.compile(rb"<[A-Za-z!?%/]")
_SCRIPT = re.compile(
    rb"<\s*/?\s*(?:script|html|body|iframe|frame|frameset|object|embed|applet|svg|img|image"
    rb"|meta|link|style|form|input|button|base|math|video|audio|source|details|marquee"
    rb"|isindex|template|xss)(?=[\s/>])"
    rb"|<\?php|<%|\son[a-z]{3,}\s*="
    rb"|(?:java|vb|live)script\s*:|data\s*:\s*text/html",
    re.IGNORECASE,
)
# Server-side code markers are too short to look for in binary data, where they occur
# by chance; text segments are checked for them.
_TEMPLATE = re.compile(rb"<%|%>")
_XMP_PREFIXES = (b"http://ns.adobe.com/xap/1.0/\x00", b"http://ns.adobe.com/xmp/extension/\x00")
_FREE, _TEXT, _BINARY = "free", "text", "binary"


class TooMuchText(Exception):
    """A compressed text chunk inflates past MAX_TEXT_BYTES."""


def has_script(data: bytes, *, is_jpeg: bool) -> bool:
    """True when a metadata segment carries script or, in free text, any markup.
    Raises TooMuchText for a compressed text chunk that inflates too far."""
    segments = _jpeg_segments(data) if is_jpeg else _png_segments(data)
    for kind, payload in segments:
        if _SCRIPT.search(payload):
            return True
        if kind == _FREE and _MARKUP.search(payload):
            return True
        if kind != _BINARY and _TEMPLATE.search(payload):
            return True
    return False


def _jpeg_segments(data: bytes) -> Iterator[tuple[str, bytes]]:
    """(kind, payload) for every COM and APPn segment, before and between
    scans, walking the same marker layout as images.jpeg_end."""
    offset = 2
    size = len(data)
    while offset + 4 <= size:
        if data[offset] != 0xFF:
            return
        while offset < size and data[offset] == 0xFF:
            offset += 1
        if offset >= size:
            return
        marker = data[offset]
        offset += 1
        if marker == 0xD9:
            return
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            continue
        length = int.from_bytes(data[offset : offset + 2], "big")
        if length < 2:
            return
        payload = data[offset + 2 : offset + length]
        if marker == 0xFE:
            yield _FREE, payload
        elif marker == 0xE1 and payload.startswith(_XMP_PREFIXES):
            yield _TEXT, payload
        elif 0xE0 <= marker <= 0xEF:
            yield _BINARY, payload
        offset += length
        if marker == 0xDA:
            offset = _next_marker(data, offset)


def _next_marker(data: bytes, offset: int) -> int:
    while True:
        found = data.find(b"\xff", offset)
        if found < 0 or found + 1 >= len(data):
            return len(data)
        following = data[found + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
            offset = found + 1
            continue
        return found


def _png_segments(data: bytes) -> Iterator[tuple[str, bytes]]:
    offset = _PNG_SIGNATURE_LENGTH
    while offset + 12 <= len(data):
        length = int.from_bytes(data[offset : offset + 4], "big")
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        offset += 12 + length
        if kind == b"tEXt":
            keyword, _, text = body.partition(b"\x00")
            yield _text_kind(keyword), keyword + b" " + text
        elif kind == b"zTXt":
            keyword, _, rest = body.partition(b"\x00")
            yield _text_kind(keyword), keyword + b" " + _inflate(rest[1:])
        elif kind == b"iTXt":
            yield _itxt(body)
        elif kind == b"IEND":
            return


def _text_kind(keyword: bytes) -> str:
    return _TEXT if keyword == _XMP_KEYWORD else _FREE


def _itxt(body: bytes) -> tuple[str, bytes]:
    keyword, _, rest = body.partition(b"\x00")
    compressed = rest[:1] == b"\x01"
    _, _, rest = rest[2:].partition(b"\x00")  # language tag
    translated, _, text = rest.partition(b"\x00")
    if compressed:
        text = _inflate(text)
    return _text_kind(keyword), keyword + b" " + translated + b" " + text


def _inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj()
    try:
        text = inflater.decompress(data, MAX_TEXT_BYTES + 1)
    except zlib.error:
        return b""  # the decoder reports the damaged chunk
    if len(text) > MAX_TEXT_BYTES:
        raise TooMuchText
    return text
