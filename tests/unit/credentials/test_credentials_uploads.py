"""The streaming multipart reader: parts to the encrypted spool, limits enforced while reading."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from clinvault.credentials.uploads import UploadLimits, receive_upload
from clinvault.errors import UploadMalformed, UploadTooLarge, UploadTooManyParts

BOUNDARY = "boundary123"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"
LIMITS = UploadLimits(max_file_bytes=1000, max_body_bytes=5000, max_files=3)


def _part(name: str, data: bytes, filename: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    return f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + data + b"\r\n"


def _body(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


async def _read(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in chunks])


async def _stream(body: bytes, size: int = 7) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


async def test_files_are_spooled_and_metadata_kept(tmp_path: Path) -> None:
    body = _body(
        _part("metadata", b'[{"a": 1}]'),
        _part("files", b"first file", "one.pdf"),
        _part("files", b"second", "two.pdf"),
    )
    upload = await receive_upload(CONTENT_TYPE, _stream(body), LIMITS, spool_root=tmp_path)
    try:
        assert upload.metadata == b'[{"a": 1}]'
        assert [f.client_filename for f in upload.files] == ["one.pdf", "two.pdf"]
        assert [await _read(f.spooled.chunks()) for f in upload.files] == [
            b"first file",
            b"second",
        ]
        assert [f.size for f in upload.files] == [10, 6]
        # On disk only ciphertext, in files only the owner reads.
        on_disk = [f.spooled.path for f in upload.files]
        assert all(path.stat().st_mode & 0o077 == 0 for path in on_disk)
        assert not any(b"first file" in path.read_bytes() for path in on_disk)
    finally:
        upload.cleanup()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (_body(_part("files", b"x" * 1001, "big.pdf")), UploadTooLarge),
        (
            _body(*[_part("files", b"x" * 900, "f.pdf")] * 3, _part("files", b"x", "g")),
            UploadTooManyParts,
        ),
        (_body(_part("other", b"x")), UploadMalformed),
        (_body(_part("metadata", b"[]"), _part("metadata", b"[]")), UploadMalformed),
        (_part("files", b"cut short", "a.pdf"), UploadMalformed),
        (
            _body(*[_part("files", b"x" * 900, "f")] * 3, _part("metadata", b"x" * 3000)),
            UploadTooLarge,
        ),
    ],
)
async def test_limits_and_malformed_bodies(
    tmp_path: Path, body: bytes, error: type[Exception]
) -> None:
    with pytest.raises(error):
        await receive_upload(CONTENT_TYPE, _stream(body, 64), LIMITS, spool_root=tmp_path)
    assert list(tmp_path.iterdir()) == []


async def test_only_multipart_is_accepted(tmp_path: Path) -> None:
    with pytest.raises(UploadMalformed):
        await receive_upload("application/json", _stream(b"{}"), LIMITS, spool_root=tmp_path)
