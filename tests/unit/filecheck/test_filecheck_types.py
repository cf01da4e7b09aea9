"""What a file is comes from its bytes; the name and the policy must agree with it."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.filecheck import corpus

from clinvault.filecheck import (
    FileKind,
    FilePolicy,
    FileRejected,
    VirusScanFailed,
    inspect_file,
)

EVERYTHING = FilePolicy(allowed_kinds=frozenset(FileKind))


def rejection(
    tmp_path: Path, data: bytes, filename: str, policy: FilePolicy = FilePolicy()
) -> list[str]:
    path = corpus.write(tmp_path / "upload", data)
    with pytest.raises(FileRejected) as caught:
        inspect_file(path, filename, policy)
    return caught.value.codes


def test_an_exe_renamed_pdf_is_rejected(tmp_path: Path) -> None:
    assert rejection(tmp_path, corpus.exe_renamed(), "license.pdf") == ["type_mismatch"]


def test_html_renamed_pdf_is_rejected(tmp_path: Path) -> None:
    assert rejection(tmp_path, corpus.html_page(), "license.pdf") == ["type_mismatch"]


def test_a_png_claiming_to_be_a_pdf_is_rejected(tmp_path: Path) -> None:
    assert rejection(tmp_path, corpus.valid_png(), "license.pdf", EVERYTHING) == ["type_mismatch"]


def test_a_png_claiming_pdf_where_only_pdf_is_accepted_names_both_problems(
    tmp_path: Path,
) -> None:
    codes = rejection(tmp_path, corpus.valid_png(), "license.pdf")

    assert codes == ["type_mismatch", "type_not_allowed"]


def test_an_exe_with_its_own_extension_is_not_allowed(tmp_path: Path) -> None:
    assert rejection(tmp_path, corpus.exe_renamed(), "setup.exe") == ["type_not_allowed"]


def test_a_pdf_without_an_extension_needs_one(tmp_path: Path) -> None:
    assert rejection(tmp_path, corpus.valid_pdf(), "license") == ["filename_invalid"]


def test_an_empty_file_is_rejected(tmp_path: Path) -> None:
    assert rejection(tmp_path, b"", "license.pdf") == ["empty_file"]


def test_a_file_over_the_size_limit_is_rejected_without_parsing(tmp_path: Path) -> None:
    policy = FilePolicy(max_bytes=1000)
    data = corpus.valid_pdf(pad_to=4000)

    assert rejection(tmp_path, data, "license.pdf", policy) == ["file_too_large"]


def test_the_declared_checksum_must_match(tmp_path: Path) -> None:
    data = corpus.valid_pdf()
    path = corpus.write(tmp_path / "upload", data)

    with pytest.raises(FileRejected) as caught:
        inspect_file(path, "license.pdf", FilePolicy(), declared_sha256="ab" * 32)
    assert caught.value.codes == ["checksum_mismatch"]
    detail = caught.value.problems[0].detail
    assert "SHA-256" in detail

    accepted = inspect_file(
        path, "license.pdf", FilePolicy(), declared_sha256=corpus.sha256_hex(data).upper()
    )
    assert accepted.sha256 == corpus.sha256_hex(data)


def test_problem_details_never_quote_the_file(tmp_path: Path) -> None:
    marker = b"Jane Q. Patient"
    data = corpus.valid_pdf() + marker
    path = corpus.write(tmp_path / "upload", data)

    with pytest.raises(FileRejected) as caught:
        inspect_file(path, "Jane Q. Patient.pdf", FilePolicy())

    assert caught.value.codes == ["trailing_data"]
    assert all("Jane" not in problem.detail for problem in caught.value.problems)
    assert "Jane" not in str(caught.value)


class _FlaggingScanner:
    def __init__(self, signature: str | None) -> None:
        self.signature = signature
        self.scanned: list[bytes] = []

    def scan(self, path: Path) -> str | None:
        self.scanned.append(path.read_bytes())
        return self.signature


class _BrokenScanner:
    def scan(self, path: Path) -> str | None:
        raise VirusScanFailed("clamd unreachable")


def test_a_scanner_verdict_rejects_the_file(tmp_path: Path) -> None:
    data = corpus.valid_pdf()
    path = corpus.write(tmp_path / "upload", data)
    scanner = _FlaggingScanner("Eicar-Test-Signature")

    with pytest.raises(FileRejected) as caught:
        inspect_file(path, "license.pdf", FilePolicy(), scanner=scanner)

    assert caught.value.codes == ["malware_found"]
    assert scanner.scanned == [data]
    assert "Eicar" not in caught.value.problems[0].detail


def test_a_clean_verdict_accepts_the_file(tmp_path: Path) -> None:
    path = corpus.write(tmp_path / "upload", corpus.valid_pdf())

    inspected = inspect_file(path, "license.pdf", FilePolicy(), scanner=_FlaggingScanner(None))

    assert inspected.kind is FileKind.PDF


def test_a_scanner_that_cannot_answer_is_not_the_uploaders_fault(tmp_path: Path) -> None:
    path = corpus.write(tmp_path / "upload", corpus.valid_pdf())

    with pytest.raises(VirusScanFailed):
        inspect_file(path, "license.pdf", FilePolicy(), scanner=_BrokenScanner())
