"""inspect_file runs in worker threads: concurrent calls give the same answers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.unit.filecheck import corpus

from clinvault.filecheck import FileKind, FilePolicy, FileRejected, inspect_file

EVERYTHING = FilePolicy(allowed_kinds=frozenset(FileKind))
CASES = [
    (corpus.valid_pdf(), "a.pdf", "pdf"),
    (corpus.valid_png(), "a.png", "png"),
    (corpus.valid_jpeg(), "a.jpg", "jpeg"),
    (corpus.valid_docx(), "a.docx", "docx"),
    (corpus.pdf_with_javascript_in_object_stream(), "a.pdf", "pdf_active_content"),
    (corpus.png_decompression_bomb(), "a.png", "image_too_large"),
    (corpus.docx_zip_bomb(), "a.docx", "zip_bomb"),
    (corpus.exe_renamed(), "a.pdf", "type_mismatch"),
]


def _outcome(path: Path, filename: str) -> str:
    try:
        return inspect_file(path, filename, EVERYTHING).kind.value
    except FileRejected as rejected:
        return ",".join(rejected.codes)


def test_concurrent_inspections_agree(tmp_path: Path) -> None:
    jobs = []
    for round_number in range(4):
        for index, (data, filename, expected) in enumerate(CASES):
            path = corpus.write(tmp_path / f"upload-{round_number}-{index}", data)
            jobs.append((path, filename, expected))

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(lambda job: _outcome(job[0], job[1]), jobs))

    assert outcomes == [expected for _, _, expected in jobs]
