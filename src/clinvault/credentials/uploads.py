"""Streaming multipart intake: file parts spooled encrypted, limits enforced as bytes arrive.

The body is never held in memory and never read past a limit: the first byte
over the per-file or per-upload limit, or the first part over the part limit,
stops the read with a 413. Only the parts named `files` (spooled, sealed under
a key held in memory only: `clinvault.storage.spool`) and `metadata` (kept in
memory, small) are accepted.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from python_multipart.multipart import MultipartParser, parse_options_header

from clinvault.errors import (
    BodyMalformed,
    BodyTooLarge,
    UploadMalformed,
    UploadTooLarge,
    UploadTooManyParts,
)
from clinvault.storage.spool import SpoolDirectory, SpooledFile, SpoolWriter, open_directory

FILE_FIELD = "files"
METADATA_FIELD = "metadata"
MAX_METADATA_BYTES = 256 * 1024
MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class UploadLimits:
    max_file_bytes: int
    max_body_bytes: int
    max_files: int


@dataclass(frozen=True, slots=True)
class UploadedFile:
    index: int
    client_filename: str
    spooled: SpooledFile
    # What the client said about the file (JSON requests): checked, never trusted.
    declared_type: str | None = None
    declared_size: int | None = None

    @property
    def size(self) -> int:
        return self.spooled.size


@dataclass
class ParsedUpload:
    directory: SpoolDirectory
    files: list[UploadedFile] = field(default_factory=list)
    metadata: bytes | None = None

    def cleanup(self) -> None:
        self.directory.cleanup()


def _size_text(limit: int) -> str:
    return f"{limit / MIB:g} MiB" if limit >= MIB else f"{limit} bytes"


class _Collector:
    """Parser callbacks: one part at a time, written straight to its temp file."""

    def __init__(self, upload: ParsedUpload, limits: UploadLimits) -> None:
        self.upload = upload
        self.limits = limits
        self.parts = 0
        self.finished = False
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self._name = ""
        self._filename = ""
        self._sink: SpoolWriter | None = None
        self._size = 0
        self._metadata = bytearray()

    def on_part_begin(self) -> None:
        self.parts += 1
        if self.parts > self.limits.max_files + 1:
            raise UploadTooManyParts(
                f"An upload holds at most {self.limits.max_files} files and one metadata "
                "part: send fewer files per request."
            )
        self._headers = {}
        self._size = 0

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[bytes(self._header_field).lower()] = bytes(self._header_value)
        self._header_field.clear()
        self._header_value.clear()

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        self._name = options.get(b"name", b"").decode("utf-8", "replace")
        self._filename = options.get(b"filename", b"").decode("utf-8", "replace")
        if self._name == FILE_FIELD:
            if len(self.upload.files) >= self.limits.max_files:
                raise UploadTooManyParts(
                    f"An upload holds at most {self.limits.max_files} files: send fewer."
                )
            self._sink = self.upload.directory.new_file("part-")
        elif self._name == METADATA_FIELD:
            if self.upload.metadata is not None:
                raise UploadMalformed("Send exactly one 'metadata' part.")
        else:
            raise UploadMalformed(
                "Only 'files' parts and one 'metadata' part are accepted; "
                f"remove the part named {self._name[:40]!r}."
            )

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        self._size += end - start
        if self._sink is not None:
            if self._size > self.limits.max_file_bytes:
                raise UploadTooLarge(
                    f"File {len(self.upload.files)} is larger than "
                    f"{_size_text(self.limits.max_file_bytes)}: send a smaller file."
                )
            self._sink.write(data[start:end])
        else:
            if self._size > MAX_METADATA_BYTES:
                raise UploadTooLarge(
                    f"The metadata part is larger than {MAX_METADATA_BYTES} bytes."
                )
            self._metadata += data[start:end]

    def on_part_end(self) -> None:
        if self._sink is not None:
            spooled = self._sink.finish()
            self._sink = None
            self.upload.files.append(UploadedFile(len(self.upload.files), self._filename, spooled))
        elif self._name == METADATA_FIELD:
            self.upload.metadata = bytes(self._metadata)

    def on_end(self) -> None:
        self.finished = True

    def close(self) -> None:
        if self._sink is not None:
            self._sink.close()
            self._sink = None


def spool_directory(root: Path, prefix: str = "upload-") -> SpoolDirectory:
    """A private, locked directory of its own under `root` for one upload's spooled parts."""
    return open_directory(root, prefix)


API_FORMAT_HINT = (
    "Send the documents as multipart/form-data with 'files' parts and one 'metadata' part."
)


def multipart_boundary(content_type: str | None, hint: str = API_FORMAT_HINT) -> bytes:
    """The boundary of a multipart/form-data body, or UploadMalformed saying `hint`."""
    kind, options = parse_options_header(content_type or "")
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise UploadMalformed(hint)
    return boundary


class MultipartSink(Protocol):
    """What `feed_multipart` drives: the parser's callbacks, plus `finished` and `close`."""

    finished: bool

    def on_part_begin(self) -> None: ...
    def on_part_data(self, data: bytes, start: int, end: int) -> None: ...
    def on_part_end(self) -> None: ...
    def on_header_field(self, data: bytes, start: int, end: int) -> None: ...
    def on_header_value(self, data: bytes, start: int, end: int) -> None: ...
    def on_header_end(self) -> None: ...
    def on_headers_finished(self) -> None: ...
    def on_end(self) -> None: ...
    def close(self) -> None: ...


async def feed_multipart(
    stream: AsyncIterator[bytes],
    boundary: bytes,
    sink: MultipartSink,
    *,
    max_body_bytes: int,
    too_large: str,
    incomplete: str,
    unreadable: str,
) -> None:
    """Parse `stream` into `sink` within `max_body_bytes`.

    On failure the sink is closed and a BodyTooLarge / BodyMalformed problem raised, with
    `too_large`, `incomplete` or `unreadable` as its detail.
    """
    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": sink.on_part_begin,
            "on_part_data": sink.on_part_data,
            "on_part_end": sink.on_part_end,
            "on_header_field": sink.on_header_field,
            "on_header_value": sink.on_header_value,
            "on_header_end": sink.on_header_end,
            "on_headers_finished": sink.on_headers_finished,
            "on_end": sink.on_end,
        },
    )
    received = 0
    try:
        async for chunk in stream:
            received += len(chunk)
            if received > max_body_bytes:
                raise UploadTooLarge(too_large)
            parser.write(chunk)
        parser.finalize()
        if not sink.finished:
            raise UploadMalformed(incomplete)
    except (BodyTooLarge, BodyMalformed):
        sink.close()
        raise
    except Exception as exc:
        sink.close()
        raise UploadMalformed(unreadable) from exc


async def receive_upload(
    content_type: str | None,
    stream: AsyncIterator[bytes],
    limits: UploadLimits,
    *,
    spool_root: Path,
    hint: str = API_FORMAT_HINT,
) -> ParsedUpload:
    """Read the multipart body into temp files; the caller must `cleanup()` the result."""
    boundary = multipart_boundary(content_type, hint)
    upload = ParsedUpload(await asyncio.to_thread(spool_directory, spool_root))
    try:
        await feed_multipart(
            stream,
            boundary,
            _Collector(upload, limits),
            max_body_bytes=limits.max_body_bytes,
            too_large=(
                f"The upload is larger than {_size_text(limits.max_body_bytes)}: "
                "send fewer or smaller files."
            ),
            incomplete="The multipart body ended early: send the complete form.",
            unreadable=(
                "The multipart body could not be parsed: send a well-formed "
                "multipart/form-data form."
            ),
        )
    except Exception:
        upload.cleanup()
        raise
    return upload
