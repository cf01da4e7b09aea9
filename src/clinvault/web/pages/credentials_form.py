"""The portal's document upload form: a streamed multipart body of numbered rows.

Each row is one file with its metadata, in fields named `<field>_<row>`
(`file_0`, `category_0`, ...). The body is read as it arrives: files go
straight to the encrypted upload spool (`clinvault.storage.spool`), text
fields stay small, and the first byte over the body's limit stops the read.
A file over the per-file limit is not kept, but the rest of the form is still
read, so that the page comes back with everything typed and the limit named
next to that file. A row may name a file held from an earlier attempt
(`held_<row>`) instead of sending one. Because the form carries files, its CSRF token is
checked here rather than by `verified_form`, with the same rule: the token
must be the MAC of this browser's CSRF cookie for the route being called,
and no service runs before it matched.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from python_multipart.multipart import parse_options_header

from clinvault.config import Settings
from clinvault.credentials.held.service import HeldFile
from clinvault.credentials.uploads import (
    ParsedUpload,
    UploadedFile,
    feed_multipart,
    multipart_boundary,
    spool_directory,
)
from clinvault.errors import (
    CsrfFailed,
    UploadMalformed,
    UploadTooManyParts,
)
from clinvault.storage.spool import SpoolDirectory, SpooledFile, SpoolWriter, spool_root
from clinvault.web import csrf

DESCRIBING = ("category", "issuing_authority", "issued_on", "expires_on", "document_number")
TEXT_FIELDS = (*DESCRIBING, "held", "remove_held", "confirm_expired")
MAX_TEXT_BYTES = 256
ADD_ROW = "add_row"
MULTIPART_OVERHEAD = 1024 * 1024
_FIELD = re.compile(r"^(file|" + "|".join(TEXT_FIELDS) + r")_(\d{1,3})$")
MIB = 1024 * 1024


@dataclass
class FormRow:
    """One row of the form: what the user entered, the spooled file, its problems."""

    position: int
    values: dict[str, str] = field(default_factory=dict)
    filename: str = ""
    spooled: SpooledFile | None = None
    errors: list[str] = field(default_factory=list)
    # Problems by form field ("file", "issued_on", ...), each shown next to its field.
    field_errors: dict[str, str] = field(default_factory=dict)
    # The file was over the per-file limit: its bytes were dropped as they arrived.
    too_large: bool = False
    # A file held from an earlier attempt (clinvault.credentials.held): id, name, size.
    held: HeldFile | None = None

    def value(self, name: str) -> str:
        return self.values.get(name, "")

    def refuse(self, name: str, message: str) -> None:
        """Note a problem of one field; the first problem of a field is the one shown."""
        self.field_errors.setdefault(name, message)

    @property
    def has_file(self) -> bool:
        return self.spooled is not None

    @property
    def invalid(self) -> bool:
        return bool(self.errors or self.field_errors)

    @property
    def is_blank(self) -> bool:
        """No file and nothing typed (the category select always sends a value)."""
        typed = any(self.value(name).strip() for name in DESCRIBING if name != "category")
        has_any_file = self.has_file or self.too_large or bool(self.value("held"))
        return not has_any_file and not typed

    def metadata(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "category": self.value("category").strip(),
            "issuing_authority": self.value("issuing_authority"),
            "issued_on": self.value("issued_on").strip(),
            "document_number": self.value("document_number"),
        }
        expires = self.value("expires_on").strip()
        if expires:
            entry["expires_on"] = expires
        return entry


@dataclass
class UploadForm:
    directory: SpoolDirectory
    rows: dict[int, FormRow] = field(default_factory=dict)
    csrf_token: str = ""
    # "Add another document" without JavaScript: the form comes back with one more row.
    add_row: bool = False

    def row(self, position: int) -> FormRow:
        return self.rows.setdefault(position, FormRow(position))

    def ordered(self) -> list[FormRow]:
        return [self.rows[position] for position in sorted(self.rows)]

    def filled(self) -> list[FormRow]:
        return [row for row in self.ordered() if not row.is_blank]

    def as_upload(self, rows: list[FormRow]) -> ParsedUpload:
        """The rows as the credentials service reads an API upload (files + metadata)."""
        files = []
        for index, row in enumerate(rows):
            assert row.spooled is not None
            files.append(UploadedFile(index, row.filename, row.spooled))
        metadata = json.dumps([row.metadata() for row in rows]).encode()
        # The directory stays ours: the caller cleans up the form, not the upload.
        return ParsedUpload(self.directory, files, metadata)

    def cleanup(self) -> None:
        self.directory.cleanup()


def _size_text(limit: int) -> str:
    return f"{limit / MIB:g} MiB" if limit >= MIB else f"{limit} bytes"


class _Collector:
    """Parser callbacks: one part at a time, files sealed straight into the spool."""

    def __init__(self, form: UploadForm, *, max_rows: int, max_file_bytes: int) -> None:
        self.form = form
        self.max_rows = max_rows
        self.max_file_bytes = max_file_bytes
        self.max_parts = max_rows * (len(TEXT_FIELDS) + 1) + 2  # + CSRF token, add_row
        self.parts = 0
        self.finished = False
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._disposition = b""
        self._text = bytearray()
        self._target: tuple[str, int] | None = None
        self._sink: SpoolWriter | None = None
        self._dropping = False
        self._size = 0

    def on_part_begin(self) -> None:
        self.parts += 1
        if self.parts > self.max_parts:
            raise UploadTooManyParts(
                f"The form holds at most {self.max_rows} documents: send fewer at once."
            )
        self._disposition = b""
        self._size = 0
        self._dropping = False
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
        if name in (csrf.FIELD, ADD_ROW):
            self._target = (name, -1)
            return
        match = _FIELD.match(name)
        if match is None:
            raise UploadMalformed(
                f"The form has an unexpected field {name[:40]!r}: reload the page and try again."
            )
        kind, position = match.group(1), int(match.group(2))
        if position >= self.max_rows:
            raise UploadTooManyParts(
                f"The form holds at most {self.max_rows} documents: send fewer at once."
            )
        self._target = (kind, position)
        if kind == "file":
            row = self.form.row(position)
            if row.spooled is not None:
                raise UploadMalformed("Each row holds one file: reload the page and try again.")
            row.filename = options.get(b"filename", b"").decode("utf-8", "replace")
            self._sink = self.form.directory.new_file(f"row-{position}-")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        self._size += end - start
        if self._dropping:
            return
        if self._sink is not None:
            if self._size > self.max_file_bytes:
                # Over the limit: drop this file, keep reading the rest of the form.
                assert self._target is not None
                self._sink.close()
                self._sink.path.unlink(missing_ok=True)
                self._sink = None
                self._dropping = True
                self.form.row(self._target[1]).too_large = True
                return
            self._sink.write(data[start:end])
            return
        if self._size > MAX_TEXT_BYTES:
            raise UploadMalformed(
                f"A form field is longer than {MAX_TEXT_BYTES} characters: shorten it."
            )
        self._text += data[start:end]

    def on_part_end(self) -> None:
        assert self._target is not None
        kind, position = self._target
        if self._dropping:
            self._dropping = False
        elif self._sink is not None:
            spooled = self._sink.finish()
            self._sink = None
            row = self.form.row(position)
            if self._size == 0 and not row.filename:
                # An empty file input: the browser sends the part without a file.
                spooled.path.unlink(missing_ok=True)
                row.filename = ""
            else:
                row.spooled = spooled
        elif kind == csrf.FIELD:
            self.form.csrf_token = self._text.decode("utf-8", "replace")
        elif kind == ADD_ROW:
            self.form.add_row = True
        else:
            self.form.row(position).values[kind] = self._text.decode("utf-8", "replace")
        self._target = None

    def on_end(self) -> None:
        self.finished = True

    def close(self) -> None:
        if self._sink is not None:
            self._sink.close()
            self._sink = None


FORM_HINT = "Send the documents with the upload form on this page."


def body_limit(settings: Settings) -> int:
    return settings.credentials.max_submission_bytes + MULTIPART_OVERHEAD


async def _parse(
    request: Request, stream: AsyncIterator[bytes], settings: Settings, max_rows: int
) -> UploadForm:
    policy = settings.credentials
    boundary = multipart_boundary(request.headers.get("content-type"), FORM_HINT)
    form = UploadForm(
        await asyncio.to_thread(spool_directory, spool_root(settings), "portal-upload-")
    )
    try:
        await feed_multipart(
            stream,
            boundary,
            _Collector(form, max_rows=max_rows, max_file_bytes=policy.max_file_bytes),
            max_body_bytes=body_limit(settings),
            too_large=(
                f"The upload is larger than {_size_text(policy.max_submission_bytes)}: "
                "send fewer or smaller files."
            ),
            incomplete="The form arrived incomplete: send it again.",
            unreadable="The form could not be read: reload the page and try again.",
        )
    except Exception:
        form.cleanup()
        raise
    return form


async def receive_form(request: Request, settings: Settings, *, max_rows: int) -> UploadForm:
    """Read and CSRF-check the upload form; the caller must `cleanup()` the result."""
    csrf.check_streamed_origin(request)
    form = await _parse(request, request.stream(), settings, max_rows)
    try:
        csrf.check_streamed_token(request, form.csrf_token)
    except CsrfFailed:
        form.cleanup()
        raise
    return form
