"""Two corpora through inspect_file: ordinary documents from many producers, made at
test time, are all accepted; hostile ones are all refused with exact problem codes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pikepdf
import pytest
from tests.integration.filecheck import producers
from tests.unit.filecheck import corpus

from clinvault.filecheck import FileKind, FilePolicy, FileRejected, inspect_file

EVERYTHING = FilePolicy(allowed_kinds=frozenset(FileKind))
PDF_ONLY = FilePolicy()


@pytest.mark.parametrize("producer", sorted(producers.PRODUCERS))
def test_ordinary_pdfs_from_every_producer_are_accepted(producer: str, tmp_path: Path) -> None:
    documents = producers.PRODUCERS[producer](tmp_path)
    assert documents

    refused: dict[str, list[str]] = {}
    for name, data in documents:
        assert data.startswith(b"%PDF-"), name
        path = corpus.write(tmp_path / f"{name}.upload", data)
        try:
            inspected = inspect_file(path, f"{name}.pdf", PDF_ONLY)
        except FileRejected as rejected:
            refused[name] = rejected.codes
            continue
        assert inspected.kind is FileKind.PDF
    assert refused == {}


def test_the_pikepdf_corpus_holds_the_shapes_that_used_to_be_refused(tmp_path: Path) -> None:
    names = {name for name, _ in producers.pikepdf_documents(tmp_path)}

    assert {
        "open-action-fit-width",
        "page-without-resources",
        "incremental-update",
        "object-streams",
        "linearized",
    } <= names


def test_an_incremental_update_is_a_real_revision(tmp_path: Path) -> None:
    base = corpus.valid_pdf()
    updated = producers.incremental_update(producers.incremental_update(base))
    assert updated.startswith(base)
    assert updated.count(b"%%EOF") == 3

    with pikepdf.open(corpus.write(tmp_path / "updated.pdf", updated)) as pdf:
        assert pdf.get_warnings() == []
        assert str(pdf.docinfo.Producer) == "incremental writer"


def test_a_docx_written_by_libreoffice_is_accepted(tmp_path: Path) -> None:
    data = producers.libreoffice_convert(tmp_path, "docx")
    path = corpus.write(tmp_path / "cv.upload", data)

    assert inspect_file(path, "cv.docx", EVERYTHING).kind is FileKind.DOCX


HOSTILE: list[tuple[Callable[[], bytes], str, list[str]]] = [
    # polyglots
    (corpus.pdf_with_zip_appended, "license.pdf", ["trailing_data"]),
    (corpus.pdf_then_zip_then_eof, "license.pdf", ["trailing_data"]),
    (corpus.pdf_then_html_then_eof, "license.pdf", ["trailing_data"]),
    (corpus.pdf_with_object_after_last_xref, "license.pdf", ["trailing_data"]),
    (corpus.pdf_with_zip_between_objects, "license.pdf", ["pdf_unaccounted_data"]),
    (corpus.pdf_with_zip_in_a_comment, "license.pdf", ["pdf_unaccounted_data"]),
    (corpus.pdf_with_leading_bytes, "license.pdf", ["leading_data"]),
    # decompression bombs, every filter
    (corpus.pdf_with_jbig2_bomb, "license.pdf", ["pdf_decompression_bomb"]),
    (corpus.pdf_with_huge_image_dimensions, "license.pdf", ["pdf_decompression_bomb"]),
    (corpus.pdf_with_flate_bomb, "license.pdf", ["pdf_decompression_bomb"]),
    (corpus.pdf_with_ascii85_flate_bomb, "license.pdf", ["pdf_decompression_bomb"]),
    (corpus.pdf_with_run_length_bomb, "license.pdf", ["pdf_decompression_bomb"]),
    # actions that run something
    (corpus.pdf_with_javascript_in_object_stream, "license.pdf", ["pdf_active_content"]),
    (corpus.pdf_opening_a_uri, "license.pdf", ["pdf_active_content"]),
    (corpus.pdf_navigating_then_running_javascript, "license.pdf", ["pdf_active_content"]),
    (corpus.pdf_submitting_a_form_on_close, "license.pdf", ["pdf_active_content"]),
    (corpus.pdf_with_launch_annotation, "license.pdf", ["pdf_active_content"]),
    (corpus.pdf_with_embedded_file, "license.pdf", ["pdf_active_content"]),
    # structural damage
    (corpus.truncated_pdf, "license.pdf", ["pdf_repaired"]),
    (corpus.pdf_with_xref_damage, "license.pdf", ["pdf_repaired"]),
    # macros by what they are
    (corpus.docx_with_renamed_macro, "cv.docx", ["docx_macro"]),
    (corpus.docx_with_macro_relationship_to_plain_name, "cv.docx", ["docx_macro"]),
    (corpus.docx_with_activex_control, "cv.docx", ["docx_macro"]),
    (corpus.docx_with_ole_object, "cv.docx", ["docx_macro"]),
    # script in image metadata
    (corpus.jpeg_with_script_comment, "badge.jpg", ["image_metadata_script"]),
    (corpus.jpeg_with_markup_comment, "badge.jpg", ["image_metadata_script"]),
    (corpus.jpeg_with_script_in_exif, "badge.jpg", ["image_metadata_script"]),
    (corpus.jpeg_with_script_in_xmp, "badge.jpg", ["image_metadata_script"]),
    (corpus.png_with_script_text, "badge.png", ["image_metadata_script"]),
    (corpus.png_with_script_ztxt, "badge.png", ["image_metadata_script"]),
    (corpus.png_with_script_itxt, "badge.png", ["image_metadata_script"]),
]


@pytest.mark.parametrize(
    ("build", "filename", "codes"), HOSTILE, ids=[build.__name__ for build, _, _ in HOSTILE]
)
def test_hostile_files_are_refused_with_exact_codes(
    build: Callable[[], bytes], filename: str, codes: list[str], tmp_path: Path
) -> None:
    path = corpus.write(tmp_path / "upload", build())

    with pytest.raises(FileRejected) as caught:
        inspect_file(path, filename, EVERYTHING)

    assert caught.value.codes == codes
