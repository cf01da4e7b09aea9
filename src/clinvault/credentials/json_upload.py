"""The credential-upload design's JSON request, read as a stream.

The body is one document object or an array of them, each carrying its file
as standard base64 in `content`. The body is never held whole: every
document-level `content` string is decoded as it arrives and sealed into the
upload spool (`clinvault.storage.spool`: ciphertext only, under a key held in
memory), and only the rest of the document, the small skeleton with each
`content` replaced by a placeholder, is decoded by `clinvault.inputs.parse_json`.

Limits are enforced as bytes arrive: the body (the decoded submission limit
plus base64's 4/3 and room for the metadata), each decoded document, the
decoded total, the number of documents and the skeleton. The first byte over
a limit stops the read with a 413; the first character that is not base64
stops it with a 422 naming the field.
"""

from __future__ import annotations

import asyncio
import binascii
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

from clinvault.credentials.uploads import MAX_METADATA_BYTES, UploadLimits, spool_directory
from clinvault.errors import UploadTooLarge, UploadTooManyParts
from clinvault.errors.credentials import CredentialContentInvalid
from clinvault.errors.inputs import JsonRejected, JsonTooDeep
from clinvault.inputs import parse_json
from clinvault.storage.spool import SpoolDirectory, SpooledFile, SpoolWriter

CONTENT_KEY = "content"
MAX_SKELETON_BYTES = MAX_METADATA_BYTES
SKELETON_MAX_DEPTH = 4
PLACEHOLDER = re.compile(r"#([0-9]{1,4})")
MIB = 1024 * 1024
_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/=]")
_STRING_STOP = re.compile(rb'["\\]')
_ESCAPES = {
    ord("/"): b"/",
    ord('"'): b'"',
    ord("\\"): b"\\",
    ord("b"): b"\b",
    ord("f"): b"\f",
    ord("n"): b"\n",
    ord("r"): b"\r",
    ord("t"): b"\t",
}


def is_json_media_type(content_type: str | None) -> bool:
    """application/json or any +json type, parameters aside."""
    if not content_type:
        return False
    message = Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


def json_body_limit(max_submission_bytes: int) -> int:
    """The largest JSON body: the decoded limit in base64 (4 characters per 3 bytes) plus
    room for the rest of the documents."""
    return 4 * -(-max_submission_bytes // 3) + MAX_SKELETON_BYTES


def _size_text(limit: int) -> str:
    return f"{limit / MIB:g} MiB" if limit >= MIB else f"{limit} bytes"


def _content_invalid(field_name: str, why: str) -> CredentialContentInvalid:
    message = (
        f"{why}: send the file's bytes as standard base64 (RFC 4648: A-Z, a-z, 0-9, '+', '/', "
        "padded with '='), without line breaks or a data: prefix."
    )
    return CredentialContentInvalid(
        f"{field_name} is not valid base64: {why}; nothing was stored.",
        errors=[{"field": field_name, "in": "body", "message": message}],
    )


@dataclass
class JsonUpload:
    """The parsed documents (each `content` a placeholder) and the spooled files."""

    directory: SpoolDirectory
    body: Any = None
    files: list[SpooledFile] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)

    def spooled(self, placeholder: object) -> SpooledFile | None:
        """The file a `content` placeholder stands for, or None when it is not one."""
        if not isinstance(placeholder, str):
            return None
        match = PLACEHOLDER.fullmatch(placeholder)
        if match is None or int(match.group(1)) >= len(self.files):
            return None
        return self.files[int(match.group(1))]

    def cleanup(self) -> None:
        self.directory.cleanup()


class _Content:
    """One `content` string being decoded into its spool file."""

    def __init__(self, writer: SpoolWriter, label: str, splitter: _Splitter) -> None:
        self.writer = writer
        self.label = label
        self.splitter = splitter
        self.pending = bytearray()
        self.characters = 0
        self.padded = False
        self.escape: bytearray | None = None
        self.done = False

    def feed(self, chunk: bytes, start: int) -> int:
        """Consume `chunk` from `start` up to the closing quote; the position after it."""
        position = start
        end = len(chunk)
        while position < end and not self.done:
            if self.escape is not None:
                position = self._escape(chunk, position)
                continue
            stop = _STRING_STOP.search(chunk, position)
            until = stop.start() if stop else end
            if until > position:
                self._characters(chunk[position:until])
            position = until
            if stop is None:
                break
            if chunk[position] == ord('"'):
                self._finish()
            else:
                self.escape = bytearray()
            position += 1
        self._decode(final=self.done)
        return position

    def _escape(self, chunk: bytes, position: int) -> int:
        assert self.escape is not None
        self.escape.append(chunk[position])
        first = self.escape[0]
        if first != ord("u"):
            replacement = _ESCAPES.get(first)
            if replacement is None:
                raise JsonRejected(
                    f"{self.label} holds an invalid escape sequence: send well-formed JSON."
                )
            self.escape = None
            self._characters(replacement)
        elif len(self.escape) == 5:
            try:
                code = int(bytes(self.escape[1:]), 16)
            except ValueError:
                raise JsonRejected(
                    f"{self.label} holds an invalid \\u escape: send well-formed JSON."
                ) from None
            self.escape = None
            self._characters(chr(code).encode("utf-8", "surrogatepass"))
        return position + 1

    def _characters(self, data: bytes) -> None:
        bad = _NOT_BASE64.search(data)
        if bad is not None:
            character = data[bad.start() : bad.start() + 1]
            shown = repr(chr(character[0])) if character[0] < 0x80 else "a non-ASCII character"
            raise _content_invalid(
                self.label, f"{shown} at character {self.characters + bad.start() + 1}"
            )
        if self.padded and data:
            raise _content_invalid(self.label, "characters after the '=' padding")
        self.characters += len(data)
        self.pending += data

    def _decode(self, *, final: bool) -> None:
        usable = len(self.pending) if final else len(self.pending) - len(self.pending) % 4
        if final and usable % 4:
            raise _content_invalid(
                self.label,
                f"{self.characters} characters, not a multiple of 4 (the '=' padding is missing "
                "or the text was cut)",
            )
        if not usable:
            return
        piece = bytes(self.pending[:usable])
        del self.pending[:usable]
        try:
            decoded = binascii.a2b_base64(piece, strict_mode=True)
        except binascii.Error:
            raise _content_invalid(self.label, "misplaced '=' padding") from None
        if piece.endswith(b"="):
            self.padded = True
        self.splitter.decoded(self, len(decoded))
        self.writer.write(decoded)

    def _finish(self) -> None:
        if self.escape is not None:
            raise JsonRejected(f"{self.label} ends inside an escape: send well-formed JSON.")
        self.done = True


@dataclass(slots=True)
class _Frame:
    array: bool
    expect_key: bool = True
    key: str | None = None
    items: int = 0


class _Splitter:
    """Copies the skeleton of the body and diverts each document's `content` to the spool."""

    def __init__(self, upload: JsonUpload, limits: UploadLimits) -> None:
        self.upload = upload
        self.limits = limits
        self.skeleton = bytearray()
        self.stack: list[_Frame] = []
        self.in_string = False
        self.string_is_key = False
        self.escaped = False
        self.key = bytearray()
        self.content: _Content | None = None
        self.documents = 0
        self.decoded_total = 0
        self.decoded_current = 0

    def feed(self, chunk: bytes) -> None:
        position = 0
        while position < len(chunk):
            if self.content is not None:
                position = self.content.feed(chunk, position)
                if self.content.done:
                    self._content_done()
                continue
            self._byte(chunk[position])
            position += 1
        if len(self.skeleton) > MAX_SKELETON_BYTES:
            raise UploadTooLarge(
                f"The documents without their content are larger than {MAX_SKELETON_BYTES} "
                "bytes: send shorter metadata or fewer documents per request."
            )

    def decoded(self, content: _Content, size: int) -> None:
        self.decoded_current += size
        self.decoded_total += size
        if self.decoded_current > self.limits.max_file_bytes:
            raise UploadTooLarge(
                f"{content.label} decodes to more than {_size_text(self.limits.max_file_bytes)}"
                ": send a smaller file."
            )
        if self.decoded_total > self.limits.max_body_bytes:
            raise UploadTooLarge(
                "The documents decode to more than "
                f"{_size_text(self.limits.max_body_bytes)} together: send fewer or smaller "
                "files per request."
            )

    def _byte(self, byte: int) -> None:
        self.skeleton.append(byte)
        if self.in_string:
            self._string_byte(byte)
            return
        top = self.stack[-1] if self.stack else None
        if byte == ord('"'):
            self._string_start(top)
        elif byte in (ord("{"), ord("[")):
            if byte == ord("{") and self._document_starts(top):
                self.documents += 1
                if self.documents > self.limits.max_files:
                    raise UploadTooManyParts(
                        f"A request holds at most {self.limits.max_files} documents: send "
                        "fewer per request."
                    )
            if len(self.stack) >= SKELETON_MAX_DEPTH:
                raise JsonTooDeep(
                    f"The request body nests arrays and objects more than {SKELETON_MAX_DEPTH} "
                    "levels deep: send documents as the design shows them."
                )
            self.stack.append(_Frame(array=byte == ord("[")))
        elif byte in (ord("}"), ord("]")):
            if self.stack:
                self.stack.pop()
        elif byte == ord(",") and top is not None:
            top.items += 1
            top.expect_key, top.key = True, None
        elif byte == ord(":") and top is not None:
            top.expect_key = False

    def _document_starts(self, top: _Frame | None) -> bool:
        return top is None or (len(self.stack) == 1 and top.array)

    def _string_byte(self, byte: int) -> None:
        if self.escaped:
            self.escaped = False
        elif byte == ord("\\"):
            self.escaped = True
        elif byte == ord('"'):
            self.in_string = False
            if self.string_is_key and self.stack:
                self.stack[-1].key = self._key_text()
            return
        if self.string_is_key:
            self.key.append(byte)

    def _key_text(self) -> str | None:
        raw = bytes(self.key)
        if b"\\" not in raw:
            return raw.decode("utf-8", "replace")
        try:
            text = parse_json(b'"' + raw + b'"', max_depth=1, max_bytes=len(raw) + 2)
        except JsonRejected:
            return None
        return text if isinstance(text, str) else None

    def _string_start(self, top: _Frame | None) -> None:
        if top is not None and not top.array and top.expect_key:
            self.in_string, self.string_is_key = True, True
            self.key.clear()
            return
        if top is not None and not top.array and top.key == CONTENT_KEY and self._at_document():
            self.skeleton.pop()  # the placeholder replaces the whole string
            if len(self.upload.files) >= self.limits.max_files:  # repeated 'content' members
                raise UploadTooManyParts(
                    f"A request holds at most {self.limits.max_files} files: send one "
                    "'content' per document and fewer documents per request."
                )
            label = CONTENT_KEY if len(self.stack) == 1 else f"[{self.stack[0].items}].content"
            writer = self.upload.directory.new_file("json-")
            self.decoded_current = 0
            self.content = _Content(writer, label, self)
            return
        self.in_string, self.string_is_key = True, False

    def _at_document(self) -> bool:
        return len(self.stack) == 1 or (len(self.stack) == 2 and self.stack[0].array)

    def _content_done(self) -> None:
        assert self.content is not None
        index = len(self.upload.files)
        self.upload.files.append(self.content.writer.finish())
        self.upload.labels.append(self.content.label)
        self.skeleton += f'"#{index}"'.encode()
        self.content = None

    def close(self) -> None:
        if self.content is not None:
            self.content.writer.close()
            self.content = None


async def receive_json_upload(
    stream: AsyncIterator[bytes], limits: UploadLimits, *, spool_root: Path
) -> JsonUpload:
    """Read the JSON body into the spool; the caller must `cleanup()` the result.

    `limits.max_body_bytes` is the decoded total; the body itself may be its base64 size.
    """
    upload = JsonUpload(await asyncio.to_thread(spool_directory, spool_root, "json-"))
    splitter = _Splitter(upload, limits)
    body_limit = json_body_limit(limits.max_body_bytes)
    received = 0
    try:
        async for chunk in stream:
            received += len(chunk)
            if received > body_limit:
                raise UploadTooLarge(
                    f"The JSON body is larger than {_size_text(body_limit)} (base64 of "
                    f"{_size_text(limits.max_body_bytes)} of documents): send fewer or smaller "
                    "files per request."
                )
            splitter.feed(chunk)
        upload.body = parse_json(
            bytes(splitter.skeleton),
            max_depth=SKELETON_MAX_DEPTH,
            max_bytes=MAX_SKELETON_BYTES,
            source="The request body",
        )
    except BaseException:
        splitter.close()
        upload.cleanup()
        raise
    return upload
