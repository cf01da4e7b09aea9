"""The import form's body: one CSV file and two small options, read as it arrives.

The file part goes straight to the encrypted upload spool
(`clinvault.storage.spool`), so the body is never held in memory and a file
over the import size limit stops the read at its first byte too many. As the
form carries a file, its CSRF token is checked here (same rule as
`csrf.verified_form`: the MAC of this browser's CSRF cookie for the route
called) before any service runs.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from fastapi import Request
from python_multipart.multipart import parse_options_header

from clinvault.config import Settings
from clinvault.credentials.uploads import feed_multipart, multipart_boundary, spool_directory
from clinvault.errors import (
    CsrfFailed,
    UploadMalformed,
    UploadTooLarge,
    UploadTooManyParts,
)
from clinvault.storage.spool import SpoolDirectory, SpooledFile, SpoolWriter, spool_root
from clinvault.web import csrf

FILE_FIELD = "file"
TEXT_FIELDS = ("dry_run", "timezone")
MAX_TEXT_BYTES = 256
MAX_PARTS = 8
MULTIPART_OVERHEAD = 1024 * 1024
FORM_HINT = "Send the file with the import form on this page."
MIB = 1024 * 1024
IMPORT_PATH = "/import"


def body_limit(settings: Settings) -> int:
    return settings.ingest.max_file_bytes + MULTIPART_OVERHEAD


def body_limit_overrides(settings: Settings) -> list[tuple[re.Pattern[str], int]]:
    """The import form admits a body up to the import size limit (checked while streaming)."""
    return [(re.compile(re.escape(IMPORT_PATH) + "/?"), body_limit(settings))]


def size_text(limit: int) -> str:
    return f"{limit / MIB:g} MiB" if limit >= MIB else f"{limit} bytes"


@dataclass
class ImportForm:
    directory: SpoolDirectory
    values: dict[str, str] = field(default_factory=dict)
    filename: str = ""
    spooled: SpooledFile | None = None
    csrf_token: str = ""

    def value(self, name: str) -> str:
        return self.values.get(name, "").strip()

    def cleanup(self) -> None:
        self.directory.cleanup()


class _Collector:
    def __init__(self, form: ImportForm, max_file_bytes: int) -> None:
        self.form = form
        self.max_file_bytes = max_file_bytes
        self.parts = 0
        self.finished = False
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._disposition = b""
        self._text = bytearray()
        self._name = ""
        self._sink: SpoolWriter | None = None
        self._size = 0

    def on_part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise UploadTooManyParts("The form has too many fields: reload the page and try again.")
        self._disposition = b""
        self._size = 0
        self._text.clear()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        if bytes(self._header_field).lower() == b"content-disposition":
            self._disposition = bytes(self._header_value)
        self._header_field.clear()
        self._header_value.clear()

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        name = options.get(b"name", b"").decode("utf-8", "replace")
        if name not in (FILE_FIELD, csrf.FIELD, *TEXT_FIELDS):
            raise UploadMalformed(
                f"The form has an unexpected field {name[:40]!r}: reload the page and try again."
            )
        self._name = name
        if name == FILE_FIELD:
            if self.form.spooled is not None or self._sink is not None:
                raise UploadMalformed("Send one file at a time: reload the page and try again.")
            raw = options.get(b"filename", b"").decode("utf-8", "replace")
            self.form.filename = re.split(r"[\\/]", raw)[-1].strip()
            self._sink = self.form.directory.new_file("import-")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        self._size += end - start
        if self._sink is not None:
            if self._size > self.max_file_bytes:
                raise UploadTooLarge(
                    f"The file is larger than {size_text(self.max_file_bytes)}: split it into "
                    "smaller files."
                )
            self._sink.write(data[start:end])
            return
        if self._size > MAX_TEXT_BYTES:
            raise UploadMalformed(
                f"A form field is longer than {MAX_TEXT_BYTES} characters: shorten it."
            )
        self._text += data[start:end]

    def on_part_end(self) -> None:
        if self._sink is not None:
            spooled = self._sink.finish()
            self._sink = None
            if self._size == 0 and not self.form.filename:
                spooled.path.unlink(missing_ok=True)  # the file input was left empty
            else:
                self.form.spooled = spooled
        elif self._name == csrf.FIELD:
            self.form.csrf_token = self._text.decode("utf-8", "replace")
        else:
            self.form.values[self._name] = self._text.decode("utf-8", "replace")

    def on_end(self) -> None:
        self.finished = True

    def close(self) -> None:
        if self._sink is not None:
            self._sink.close()
            self._sink = None


async def _parse(request: Request, stream: AsyncIterator[bytes], settings: Settings) -> ImportForm:
    boundary = multipart_boundary(request.headers.get("content-type"), FORM_HINT)
    form = ImportForm(await asyncio.to_thread(spool_directory, spool_root(settings), "import-"))
    try:
        await feed_multipart(
            stream,
            boundary,
            _Collector(form, settings.ingest.max_file_bytes),
            max_body_bytes=body_limit(settings),
            too_large=(
                f"The file is larger than {size_text(settings.ingest.max_file_bytes)}: "
                "split it into smaller files."
            ),
            incomplete="The form arrived incomplete: send it again.",
            unreadable="The form could not be read: reload the page and try again.",
        )
    except Exception:
        form.cleanup()
        raise
    return form


async def receive_import_form(request: Request, settings: Settings) -> ImportForm:
    """Read and CSRF-check the import form; the caller must `cleanup()` the result."""
    csrf.check_streamed_origin(request)
    form = await _parse(request, request.stream(), settings)
    try:
        csrf.check_streamed_token(request, form.csrf_token)
    except CsrfFailed:
        form.cleanup()
        raise
    return form
