"""JPEG and PNG checks: bounded pixels, fully decodable, nothing appended."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from tests.unit.filecheck import corpus

from clinvault.filecheck import FileKind, FilePolicy, FileRejected, inspect_file

IMAGES = FilePolicy(allowed_kinds=frozenset({FileKind.JPEG, FileKind.PNG}))


def rejection(tmp_path: Path, data: bytes, filename: str, policy: FilePolicy = IMAGES) -> list[str]:
    path = corpus.write(tmp_path / "upload", data)
    with pytest.raises(FileRejected) as caught:
        inspect_file(path, filename, policy)
    return caught.value.codes


@pytest.mark.parametrize(
    ("data", "filename", "kind", "content_type"),
    [
        (corpus.valid_jpeg(), "board.jpg", FileKind.JPEG, "image/jpeg"),
        (corpus.valid_jpeg(), "board.JPEG", FileKind.JPEG, "image/jpeg"),
        (corpus.valid_png(), "board.png", FileKind.PNG, "image/png"),
    ],
)
def test_valid_images_are_accepted(
    tmp_path: Path, data: bytes, filename: str, kind: FileKind, content_type: str
) -> None:
    path = corpus.write(tmp_path / "upload", data)

    inspected = inspect_file(path, filename, IMAGES)

    assert (inspected.kind, inspected.content_type) == (kind, content_type)


def test_a_progressive_jpeg_with_restart_markers_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "upload"
    Image.new("RGB", (300, 200), (10, 120, 40)).save(
        path, "JPEG", progressive=True, restart_marker_blocks=4
    )

    assert inspect_file(path, "scan.jpg", IMAGES).kind is FileKind.JPEG


def test_a_jpeg_followed_by_html_is_rejected(tmp_path: Path) -> None:
    assert rejection(tmp_path, corpus.jpeg_followed_by_html(), "photo.jpg") == ["trailing_data"]


def test_a_png_followed_by_html_is_rejected(tmp_path: Path) -> None:
    assert rejection(tmp_path, corpus.png_followed_by_html(), "photo.png") == ["trailing_data"]


def test_a_decompression_bomb_png_is_refused_before_decoding(tmp_path: Path) -> None:
    data = corpus.png_decompression_bomb()
    assert len(data) < 1024

    assert rejection(tmp_path, data, "scan.png") == ["image_too_large"]


def test_the_pixel_limit_comes_from_the_policy(tmp_path: Path) -> None:
    small_limit = FilePolicy(allowed_kinds=IMAGES.allowed_kinds, max_pixels=64 * 47)
    path = corpus.write(tmp_path / "upload", corpus.valid_png(64, 48))

    with pytest.raises(FileRejected) as caught:
        inspect_file(path, "scan.png", small_limit)
    assert caught.value.codes == ["image_too_large"]
    assert inspect_file(path, "scan.png", IMAGES).kind is FileKind.PNG


def test_the_process_wide_pillow_limit_is_left_alone(tmp_path: Path) -> None:
    before = Image.MAX_IMAGE_PIXELS
    rejection(tmp_path, corpus.png_decompression_bomb(), "scan.png")

    assert before == Image.MAX_IMAGE_PIXELS


def test_a_truncated_jpeg_is_rejected(tmp_path: Path) -> None:
    assert rejection(tmp_path, corpus.truncated_jpeg(), "photo.jpg") == ["image_invalid"]


def test_a_png_with_corrupt_pixel_data_is_rejected(tmp_path: Path) -> None:
    data = bytearray(corpus.valid_png(200, 200))
    idat = data.find(b"IDAT")
    data[idat + 10 : idat + 30] = b"\xff" * 20

    assert rejection(tmp_path, bytes(data), "photo.png") == ["image_invalid"]


def test_an_image_is_refused_where_only_pdf_is_accepted(tmp_path: Path) -> None:
    assert rejection(tmp_path, corpus.valid_png(), "photo.png", FilePolicy()) == [
        "type_not_allowed"
    ]


@pytest.mark.parametrize(
    ("build", "filename"),
    [
        (corpus.jpeg_with_script_comment, "photo.jpg"),
        (corpus.jpeg_with_markup_comment, "photo.jpg"),
        (corpus.jpeg_with_script_in_exif, "photo.jpg"),
        (corpus.jpeg_with_script_in_xmp, "photo.jpg"),
        (corpus.png_with_script_text, "photo.png"),
        (corpus.png_with_script_ztxt, "photo.png"),
        (corpus.png_with_script_itxt, "photo.png"),
    ],
    ids=lambda value: getattr(value, "__name__", str(value)),
)
def test_script_in_metadata_segments_is_refused(
    tmp_path: Path, build: Callable[[], bytes], filename: str
) -> None:
    assert rejection(tmp_path, build(), filename) == ["image_metadata_script"]


@pytest.mark.parametrize(
    ("build", "filename"),
    [
        (corpus.jpeg_with_ordinary_metadata, "photo.jpg"),
        (corpus.png_with_ordinary_text, "photo.png"),
    ],
    ids=lambda value: getattr(value, "__name__", str(value)),
)
def test_ordinary_metadata_is_accepted(
    tmp_path: Path, build: Callable[[], bytes], filename: str
) -> None:
    path = corpus.write(tmp_path / "upload", build())

    assert inspect_file(path, filename, IMAGES).kind in {FileKind.JPEG, FileKind.PNG}


def test_a_camera_jpeg_with_exif_and_a_thumbnail_is_accepted(tmp_path: Path) -> None:
    image = Image.new("RGB", (640, 480), (90, 140, 200))
    exif = Image.Exif()
    exif[0x010F] = "Camera maker"
    exif[0x0110] = "Model <X> 2"
    exif[0x010E] = "Board certificate, 2024"
    path = tmp_path / "upload"
    image.save(path, "JPEG", exif=exif.tobytes(), comment=b"Scanned with care", quality=90)

    assert inspect_file(path, "photo.jpg", IMAGES).kind is FileKind.JPEG


def test_a_compressed_text_chunk_that_inflates_too_far_is_refused(tmp_path: Path) -> None:
    body = b"Comment\x00\x00" + zlib.compress(b"a" * (2 * 1024 * 1024))
    data = corpus._png_with_chunk(b"zTXt", body)

    assert rejection(tmp_path, data, "photo.png") == ["image_invalid"]
