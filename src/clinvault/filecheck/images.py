"""JPEG and PNG checks with Pillow: bounded size, fully decodable, nothing appended."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from PIL import Image, ImageFile, JpegImagePlugin, PngImagePlugin

from clinvault.filecheck import image_metadata
from clinvault.filecheck.model import FileKind, Findings

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    struct.error,
    zlib.error,
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,
)

INVALID = (
    "The image is damaged or not a valid {label}. Open it in an image viewer, export "
    "it again as {label} and upload that file."
)
TOO_LARGE = (
    "The image has {pixels:,} pixels; at most {limit:,} are accepted. Reduce its "
    "resolution (a scan at 300 dpi is enough) and upload it again."
)
SCRIPT = (
    "The image carries web markup or script in its metadata (a comment or text field). "
    "Export the image again without metadata, or take a new photo or scan, and upload "
    "that file."
)
TRAILING = (
    "The file has extra data after the end of the image. Export the image again "
    "and upload that file."
)


def check_image(path: Path, kind: FileKind, max_pixels: int, findings: Findings) -> None:
    data = path.read_bytes()
    end = jpeg_end(data) if kind is FileKind.JPEG else png_end(data)
    label = "JPEG" if kind is FileKind.JPEG else "PNG"
    if end is None:
        findings.add("image_invalid", INVALID.format(label=label))
        return
    if end < len(data):
        findings.add("trailing_data", TRAILING)
    try:
        if image_metadata.has_script(data[:end], is_jpeg=kind is FileKind.JPEG):
            findings.add("image_metadata_script", SCRIPT)
    except image_metadata.TooMuchText:
        findings.add("image_invalid", INVALID.format(label=label))
    _decode(path, kind, max_pixels, label, findings)


def _decode(path: Path, kind: FileKind, max_pixels: int, label: str, findings: Findings) -> None:
    # The format classes are used directly rather than Image.open: that reads only the
    # header, without Pillow's process-wide MAX_IMAGE_PIXELS check, so the policy's own
    # limit is applied before a single pixel is decoded and no global state is touched.
    image_class: type[ImageFile.ImageFile] = (
        JpegImagePlugin.JpegImageFile if kind is FileKind.JPEG else PngImagePlugin.PngImageFile
    )
    try:
        with path.open("rb") as handle, image_class(handle) as image:
            width, height = image.size
            if width <= 0 or height <= 0:
                findings.add("image_invalid", INVALID.format(label=label))
                return
            if width * height > max_pixels:
                findings.add(
                    "image_too_large",
                    TOO_LARGE.format(pixels=width * height, limit=max_pixels),
                )
                return
            image.load()
    except _DECODE_ERRORS:
        findings.add("image_invalid", INVALID.format(label=label))


def png_end(data: bytes) -> int | None:
    """Offset just past the IEND chunk, or None when the chunk layout is broken."""
    if not data.startswith(PNG_SIGNATURE):
        return None
    offset = len(PNG_SIGNATURE)
    while offset + 12 <= len(data):
        length = int.from_bytes(data[offset : offset + 4], "big")
        chunk_type = data[offset + 4 : offset + 8]
        offset += 12 + length
        if offset > len(data):
            return None
        if chunk_type == b"IEND":
            return offset
    return None


def jpeg_end(data: bytes) -> int | None:
    """Offset just past the EOI marker, walking segments and entropy-coded data."""
    if not data.startswith(b"\xff\xd8"):
        return None
    offset = 2
    size = len(data)
    while offset < size:
        if data[offset] != 0xFF:
            return None
        while offset < size and data[offset] == 0xFF:  # fill bytes before a marker
            offset += 1
        if offset >= size:
            return None
        marker = data[offset]
        offset += 1
        if marker == 0xD9:
            return offset
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            continue
        if offset + 2 > size:
            return None
        length = int.from_bytes(data[offset : offset + 2], "big")
        if length < 2:
            return None
        offset += length
        if marker == 0xDA:
            next_marker = _end_of_entropy_data(data, offset)
            if next_marker is None:
                return None
            offset = next_marker
    return None


def _end_of_entropy_data(data: bytes, offset: int) -> int | None:
    """The offset of the first real marker after scan data (skipping stuffed 0xFF00
    bytes and restart markers)."""
    while True:
        found = data.find(b"\xff", offset)
        if found < 0 or found + 1 >= len(data):
            return None
        following = data[found + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7:
            offset = found + 2
            continue
        if following == 0xFF:
            offset = found + 1
            continue
        return found
