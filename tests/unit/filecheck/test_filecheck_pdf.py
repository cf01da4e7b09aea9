"""PDF checks: intact, unencrypted, inert, nothing before or after."""

from __future__ import annotations

import io
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.unit.filecheck import corpus

from clinvault.filecheck import FileKind, FilePolicy, FileRejected, inspect_file

PDF_ONLY = FilePolicy()


def rejection(tmp_path: Path, data: bytes, filename: str = "license.pdf") -> list[str]:
    path = corpus.write(tmp_path / "upload", data)
    with pytest.raises(FileRejected) as caught:
        inspect_file(path, filename, PDF_ONLY)
    for problem in caught.value.problems:
        assert problem.detail[:1].isupper()
    return caught.value.codes


def test_a_valid_pdf_is_described_by_its_bytes(tmp_path: Path) -> None:
    data = corpus.valid_pdf()
    path = corpus.write(tmp_path / "upload", data)

    inspected = inspect_file(path, "License 2024.pdf", PDF_ONLY)

    assert inspected.kind is FileKind.PDF
    assert inspected.content_type == "application/pdf"
    assert inspected.size == len(data)
    assert inspected.sha256 == corpus.sha256_hex(data)
    assert inspected.filename == "License 2024.pdf"


def test_a_large_scanned_pdf_is_accepted(tmp_path: Path) -> None:
    data = corpus.valid_pdf(pad_to=2 * 1024 * 1024)
    path = corpus.write(tmp_path / "upload", data)

    assert inspect_file(path, "scan.PDF", PDF_ONLY).size == len(data)


@pytest.mark.parametrize(
    "build", [corpus.valid_linearized_pdf, corpus.valid_pdf_from_pillow], ids=lambda b: b.__name__
)
def test_pdfs_from_other_writers_are_accepted(tmp_path: Path, build: Callable[[], bytes]) -> None:
    path = corpus.write(tmp_path / "upload", build())

    assert inspect_file(path, "license.pdf", PDF_ONLY).kind is FileKind.PDF


def test_a_truncated_pdf_that_qpdf_would_repair_is_rejected(tmp_path: Path) -> None:
    assert rejection(tmp_path, corpus.truncated_pdf()) == ["pdf_repaired"]


def test_a_pdf_header_followed_by_garbage_is_rejected(tmp_path: Path) -> None:
    assert rejection(tmp_path, corpus.pdf_header_then_garbage()) == ["pdf_repaired"]


def test_a_pdf_without_pages_is_rejected(tmp_path: Path) -> None:
    assert rejection(tmp_path, corpus.pdf_without_pages()) == ["pdf_no_pages"]


@pytest.mark.parametrize("user_password", ["", "open-sesame"])
def test_an_encrypted_pdf_is_rejected(tmp_path: Path, user_password: str) -> None:
    assert rejection(tmp_path, corpus.encrypted_pdf(user_password)) == ["pdf_encrypted"]


def test_javascript_hidden_in_an_object_stream_is_found(tmp_path: Path) -> None:
    data = corpus.pdf_with_javascript_in_object_stream()
    assert b"/JavaScript" not in data  # only visible once the object stream is decoded

    assert rejection(tmp_path, data) == ["pdf_active_content"]


@pytest.mark.parametrize(
    "build",
    [
        corpus.pdf_with_launch_annotation,
        corpus.pdf_with_page_additional_action,
        corpus.pdf_with_embedded_file,
        corpus.pdf_with_xfa_form,
        corpus.pdf_with_javascript_name_tree,
    ],
    ids=lambda build: build.__name__,
)
def test_active_content_anywhere_is_rejected(tmp_path: Path, build: Callable[[], bytes]) -> None:
    assert rejection(tmp_path, build()) == ["pdf_active_content"]


def test_a_pdf_with_a_zip_appended_is_a_polyglot(tmp_path: Path) -> None:
    assert rejection(tmp_path, corpus.pdf_with_zip_appended()) == ["trailing_data"]


def test_trailing_whitespace_after_eof_is_tolerated(tmp_path: Path) -> None:
    path = corpus.write(tmp_path / "upload", corpus.valid_pdf() + b"\r\n  \n")

    assert inspect_file(path, "license.pdf", PDF_ONLY).kind is FileKind.PDF


def test_bytes_before_the_pdf_header_are_rejected(tmp_path: Path) -> None:
    assert rejection(tmp_path, corpus.pdf_with_leading_bytes()) == ["leading_data"]


def test_html_before_the_pdf_is_not_a_pdf(tmp_path: Path) -> None:
    assert rejection(tmp_path, corpus.pdf_with_leading_html()) == ["type_mismatch"]


def test_every_problem_is_reported_together(tmp_path: Path) -> None:
    data = corpus.pdf_with_javascript_in_object_stream() + b"PK\x03\x04trailing"
    path = corpus.write(tmp_path / "upload", data)

    with pytest.raises(FileRejected) as caught:
        inspect_file(path, "license.pdf", PDF_ONLY, declared_sha256="0" * 64)

    assert caught.value.codes == ["checksum_mismatch", "trailing_data", "pdf_active_content"]


@pytest.mark.parametrize(
    "build",
    [
        corpus.pdf_with_inert_open_action,
        corpus.pdf_with_navigation_actions,
        corpus.pdf_with_page_lacking_resources,
        corpus.pdf_with_jbig2_image,
    ],
    ids=lambda build: build.__name__,
)
def test_ordinary_shapes_are_accepted(tmp_path: Path, build: Callable[[], bytes]) -> None:
    path = corpus.write(tmp_path / "upload", build())

    assert inspect_file(path, "license.pdf", PDF_ONLY).kind is FileKind.PDF


@pytest.mark.parametrize(
    "build",
    [
        corpus.pdf_opening_a_uri,
        corpus.pdf_navigating_then_running_javascript,
        corpus.pdf_submitting_a_form_on_close,
    ],
    ids=lambda build: build.__name__,
)
def test_automatic_actions_that_run_something_are_refused(
    tmp_path: Path, build: Callable[[], bytes]
) -> None:
    assert rejection(tmp_path, build()) == ["pdf_active_content"]


def test_a_broken_cross_reference_table_is_structural_damage(tmp_path: Path) -> None:
    assert rejection(tmp_path, corpus.pdf_with_xref_damage()) == ["pdf_repaired"]


@pytest.mark.parametrize(
    ("build", "codes"),
    [
        (corpus.pdf_then_zip_then_eof, ["trailing_data"]),
        (corpus.pdf_then_html_then_eof, ["trailing_data"]),
        (corpus.pdf_with_object_after_last_xref, ["trailing_data"]),
        (corpus.pdf_with_zip_between_objects, ["pdf_unaccounted_data"]),
        (corpus.pdf_with_zip_in_a_comment, ["pdf_unaccounted_data"]),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_polyglots_are_refused_wherever_the_file_ends(
    tmp_path: Path, build: Callable[[], bytes], codes: list[str]
) -> None:
    data = build()
    assert data.rstrip().endswith(b"%%EOF")

    assert rejection(tmp_path, data) == codes


def test_a_zip_inside_a_stream_that_a_zip_reader_opens_is_refused(tmp_path: Path) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zipped:
        zipped.writestr("payload.html", corpus.HTML_PAGE)
    data = corpus.pdf_carrying(archive.getvalue().replace(b"\n", b" ").replace(b"\r", b" "))

    assert rejection(tmp_path, data) == ["pdf_unaccounted_data"]


def test_decoded_size_is_bounded_for_flate_lzw_and_run_length(tmp_path: Path) -> None:
    content = b"0 0 m 10 10 l S\n" * 20_000  # 320 kB of page drawing
    tight = FilePolicy(pdf_max_decoded_bytes=200_000)
    for data in (
        corpus.pdf_with_lzw_content(content),
        corpus.pdf_with_flate_bomb(decoded_bytes=1024 * 1024),
        corpus.pdf_with_run_length_bomb(decoded_bytes=1024 * 1024),
    ):
        path = corpus.write(tmp_path / "upload", data)
        with pytest.raises(FileRejected) as caught:
            inspect_file(path, "license.pdf", tight)
        assert caught.value.codes == ["pdf_decompression_bomb"]
        assert inspect_file(path, "license.pdf", PDF_ONLY).kind is FileKind.PDF


def test_a_jbig2_page_larger_than_its_image_dictionary_is_a_bomb(tmp_path: Path) -> None:
    data = corpus.pdf_with_jbig2_bomb()
    assert len(data) < 2048

    assert rejection(tmp_path, data) == ["pdf_decompression_bomb"]
    limited = FilePolicy(pdf_max_image_pixels=1700 * 2200 - 1)
    path = corpus.write(tmp_path / "ordinary", corpus.pdf_with_jbig2_image(1700, 2200))
    with pytest.raises(FileRejected) as caught:
        inspect_file(path, "scan.pdf", limited)
    assert caught.value.codes == ["pdf_decompression_bomb"]


_SEEDS = [
    corpus.valid_pdf(),
    corpus.valid_linearized_pdf(),
    corpus.pdf_with_javascript_in_object_stream(),
    corpus.pdf_with_jbig2_image(64, 64),
    corpus.pdf_with_lzw_content(b"0 0 m 1 1 l S\n" * 50),
]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.sampled_from(_SEEDS),
    edits=st.lists(st.tuples(st.floats(0, 1), st.binary(min_size=0, max_size=8)), max_size=4),
    cut=st.floats(0.05, 1.0),
)
def test_damaged_pdfs_are_refused_or_accepted_never_crash(
    tmp_path: Path, seed: bytes, edits: list[tuple[float, bytes]], cut: float
) -> None:
    data = bytearray(seed)
    for where, replacement in edits:
        at = int(where * (len(data) - 1))
        data[at : at + len(replacement)] = replacement
    path = corpus.write(tmp_path / "upload", bytes(data[: max(1, int(len(data) * cut))]))

    outcome: list[str]
    try:
        outcome = [inspect_file(path, "license.pdf", PDF_ONLY).kind.value]
    except FileRejected as rejected:
        outcome = rejected.codes
    assert outcome


def test_a_large_scanned_page_is_checked_without_reading_its_image_into_memory(
    tmp_path: Path,
) -> None:
    path = corpus.write(tmp_path / "scan.pdf", corpus.valid_pdf(pad_to=8 * 1024 * 1024))
    tracemalloc.start()
    try:
        inspected = inspect_file(path, "scan.pdf", FilePolicy())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert inspected.kind is FileKind.PDF
    # The checksum reads 1 MiB at a time; a copy of the 8 MiB image would show here.
    assert peak < 3 * 1024 * 1024
