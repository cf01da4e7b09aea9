"""DOCX checks: bounded archive, no macros, nothing external, safe XML."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tests.unit.filecheck import corpus

from clinvault.filecheck import FileKind, FilePolicy, FileRejected, inspect_file

DOCX = FilePolicy(allowed_kinds=frozenset({FileKind.PDF, FileKind.DOCX}))


def rejection(tmp_path: Path, data: bytes, policy: FilePolicy = DOCX) -> list[str]:
    path = corpus.write(tmp_path / "upload", data)
    with pytest.raises(FileRejected) as caught:
        inspect_file(path, "cv.docx", policy)
    return caught.value.codes


def test_a_minimal_docx_is_accepted(tmp_path: Path) -> None:
    path = corpus.write(tmp_path / "upload", corpus.valid_docx())

    inspected = inspect_file(path, "cv.docx", DOCX)

    assert inspected.kind is FileKind.DOCX
    assert inspected.content_type == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )


def test_a_highly_compressed_entry_is_a_zip_bomb(tmp_path: Path) -> None:
    data = corpus.docx_zip_bomb()
    assert len(data) < 64 * 1024

    assert rejection(tmp_path, data) == ["zip_bomb"]


def test_the_uncompressed_total_is_limited(tmp_path: Path) -> None:
    data = corpus.docx_zip_bomb(uncompressed_bytes=600_000)  # under the ratio floor
    tight = FilePolicy(allowed_kinds=DOCX.allowed_kinds, docx_max_uncompressed_bytes=500_000)

    assert rejection(tmp_path, data, tight) == ["zip_bomb"]
    assert inspect_file(corpus.write(tmp_path / "ok", data), "cv.docx", DOCX).size == len(data)


def test_the_entry_count_is_limited(tmp_path: Path) -> None:
    assert rejection(tmp_path, corpus.docx_with_too_many_entries()) == ["zip_bomb"]


def test_sizes_that_lie_in_the_headers_are_caught_while_reading(tmp_path: Path) -> None:
    assert rejection(tmp_path, corpus.docx_with_lying_sizes()) == ["docx_invalid"]


def test_a_macro_project_is_rejected(tmp_path: Path) -> None:
    assert rejection(tmp_path, corpus.docx_with_macro()) == ["docx_macro"]


def test_a_macro_enabled_content_type_is_rejected(tmp_path: Path) -> None:
    assert rejection(tmp_path, corpus.docx_with_macro_enabled_content_type()) == ["docx_macro"]


def test_an_external_relationship_is_rejected(tmp_path: Path) -> None:
    assert rejection(tmp_path, corpus.docx_with_external_relationship()) == [
        "docx_external_relationship"
    ]


def test_a_doctype_is_refused_before_any_entity_expands(tmp_path: Path) -> None:
    assert rejection(tmp_path, corpus.docx_with_doctype()) == ["docx_invalid"]


def test_a_zip_without_the_word_parts_is_not_a_docx(tmp_path: Path) -> None:
    assert rejection(tmp_path, corpus.docx_without_document_part()) == ["docx_invalid"]


def test_a_docx_is_refused_where_only_pdf_is_accepted(tmp_path: Path) -> None:
    assert rejection(tmp_path, corpus.valid_docx(), FilePolicy()) == ["type_not_allowed"]


@pytest.mark.parametrize(
    "build",
    [
        corpus.docx_with_renamed_macro,
        corpus.docx_with_macro_relationship_to_plain_name,
        corpus.docx_with_activex_control,
        corpus.docx_with_ole_object,
    ],
    ids=lambda build: build.__name__,
)
def test_active_parts_are_found_by_what_they_are_not_their_names(
    tmp_path: Path, build: Callable[[], bytes]
) -> None:
    data = build()
    assert b"vbaProject.bin" not in data

    assert rejection(tmp_path, data) == ["docx_macro"]


def test_an_ordinary_image_part_is_accepted(tmp_path: Path) -> None:
    relationship = (
        '<Relationship Id="rId7" Type="http://schemas.openxmlformats.org/officeDocument/'
        '2006/relationships/image" Target="media/image1.png"/>'
    )
    data = corpus._docx(
        extra_parts={"word/media/image1.png": corpus.valid_png()},
        content_type_overrides='<Default Extension="png" ContentType="image/png"/>',
        document_relationships=relationship,
    )
    path = corpus.write(tmp_path / "upload", data)

    assert inspect_file(path, "cv.docx", DOCX).kind is FileKind.DOCX
