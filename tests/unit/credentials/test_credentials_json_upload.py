"""The streaming JSON reader: base64 content to the encrypted spool, the rest to parse_json."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinvault.credentials.json_upload import (
    JsonUpload,
    is_json_media_type,
    json_body_limit,
    receive_json_upload,
)
from clinvault.credentials.uploads import UploadLimits
from clinvault.errors import UploadTooLarge, UploadTooManyParts
from clinvault.errors.credentials import CredentialContentInvalid
from clinvault.errors.inputs import JsonRejected, JsonTooDeep

LIMITS = UploadLimits(max_file_bytes=1000, max_body_bytes=1500, max_files=3)


async def _stream(body: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


async def _read(upload: JsonUpload, index: int) -> bytes:
    return b"".join([chunk async for chunk in upload.files[index].chunks()])


def _document(data: bytes, **extra: Any) -> dict[str, Any]:
    return {"name": "a.pdf", "content": base64.b64encode(data).decode(), **extra}


async def _receive(body: bytes, root: Path, size: int = 7) -> JsonUpload:
    return await receive_json_upload(_stream(body, size), LIMITS, spool_root=root)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    files=st.lists(st.binary(max_size=300), min_size=1, max_size=3),
    size=st.integers(min_value=1, max_value=64),
    escape_slashes=st.booleans(),
)
async def test_any_chunking_gives_the_same_documents(
    tmp_path: Path, files: list[bytes], size: int, escape_slashes: bool
) -> None:
    text = json.dumps([_document(data, metadata={"n": i}) for i, data in enumerate(files)])
    if escape_slashes:
        text = text.replace("/", "\\/")  # a valid JSON spelling some encoders use
    upload = await _receive(text.encode(), tmp_path, size)
    try:
        assert [await _read(upload, i) for i in range(len(files))] == files
        assert [d["content"] for d in upload.body] == [f"#{i}" for i in range(len(files))]
        assert [d["metadata"] for d in upload.body] == [{"n": i} for i in range(len(files))]
        sealed = b"".join(spooled.path.read_bytes() for spooled in upload.files)
        assert all(data not in sealed for data in files if len(data) > 16)
    finally:
        upload.cleanup()


async def test_only_document_level_content_is_diverted(tmp_path: Path) -> None:
    body = b'{"cont\\u0065nt": "QUJD", "metadata": {"content": "kept"}}'
    upload = await _receive(body, tmp_path)
    try:
        assert upload.body == {"content": "#0", "metadata": {"content": "kept"}}
        assert await _read(upload, 0) == b"ABC"
        assert upload.spooled("#0") is upload.files[0]
        assert upload.spooled("#1") is None
        assert upload.spooled(7) is None
    finally:
        upload.cleanup()


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("QUJD*", "'*' at character 5"),
        ("QUJ", "not a multiple of 4"),
        ("QQ==QUJD", "after the '=' padding"),
        ("QUJD\\nQUJD", "'\\n' at character 5"),
        ("QUJDé", "a non-ASCII character"),
    ],
)
async def test_bad_base64_names_the_field_and_leaves_nothing(
    tmp_path: Path, content: str, says: str
) -> None:
    body = f'[{{"content": "QUJD"}}, {{"content": "{content}"}}]'.encode()
    with pytest.raises(CredentialContentInvalid) as caught:
        await _receive(body, tmp_path)
    assert caught.value.errors == [
        {"field": "[1].content", "in": "body", "message": caught.value.errors[0]["message"]}
    ]
    assert says in caught.value.detail
    assert list(tmp_path.iterdir()) == []


async def test_limits_stop_the_read(tmp_path: Path) -> None:
    with pytest.raises(UploadTooLarge, match="decodes to more than 1000 bytes"):
        await _receive(json.dumps(_document(b"x" * 1001)).encode(), tmp_path)
    body = json.dumps([_document(b"x" * 900), _document(b"y" * 900)]).encode()
    with pytest.raises(UploadTooLarge, match="1500 bytes together"):
        await _receive(body, tmp_path)
    with pytest.raises(UploadTooManyParts):
        await _receive(json.dumps([_document(b"x")] * 4).encode(), tmp_path)
    with pytest.raises(UploadTooManyParts):
        await _receive(b'{"content": "", "content": "", "content": "", "content": ""}', tmp_path)
    with pytest.raises(UploadTooLarge, match="JSON body is larger"):
        await _receive(b" " * (json_body_limit(LIMITS.max_body_bytes) + 1), tmp_path, 4096)
    with pytest.raises(JsonRejected):
        await _receive(b'{"content": "QUJD"', tmp_path)
    with pytest.raises(JsonTooDeep):
        await _receive(b"[" * 100_000, tmp_path, 4096)
    assert list(tmp_path.iterdir()) == []


def test_json_media_types() -> None:
    assert is_json_media_type("application/json")
    assert is_json_media_type("application/json; charset=utf-8")
    assert is_json_media_type("application/vnd.api+json")
    assert not is_json_media_type("multipart/form-data; boundary=x")
    assert not is_json_media_type(None)
