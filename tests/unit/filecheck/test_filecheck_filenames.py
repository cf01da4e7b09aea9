"""Client file names become safe display names and never raise."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.unit.filecheck import corpus

from clinvault.filecheck import FilePolicy, FileRejected, inspect_file, sanitize_filename

BIDI = [chr(c) for c in range(0x202A, 0x202F)] + [chr(c) for c in range(0x2066, 0x206A)]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (corpus.PATH_TRAVERSAL_NAME, "evil.pdf"),
        (corpus.WINDOWS_TRAVERSAL_NAME, "license.pdf"),
        (corpus.RTL_OVERRIDE_NAME, "licensefdp.exe"),
        ("report\x00.pdf", "report.pdf"),
        ("line\nbreak\t.pdf", "linebreak.pdf"),
        ("..hidden.pdf", "hidden.pdf"),
        ("/", "document"),
        ("", "document"),
        ("...", "document"),
        ("\u202e\u2066", "document"),
        ("Cafe\u0301.pdf", "Caf\u00e9.pdf"),
        ("  license.pdf  ", "license.pdf"),
        ("C:\\Users\\dr\\Board Cert.pdf", "Board Cert.pdf"),
    ],
)
def test_names_are_sanitized(name: str, expected: str) -> None:
    assert sanitize_filename(name) == expected


def test_a_300_character_name_is_cut_to_120_keeping_its_extension() -> None:
    sanitized = sanitize_filename(corpus.LONG_NAME)

    assert len(sanitized) == 120
    assert sanitized == "a" * 116 + ".pdf"


def test_a_long_name_without_an_extension_is_cut_to_120() -> None:
    assert sanitize_filename("b" * 300) == "b" * 120


@pytest.mark.parametrize(
    "name", [corpus.PATH_TRAVERSAL_NAME, corpus.RTL_OVERRIDE_NAME, corpus.LONG_NAME]
)
def test_hostile_names_on_a_valid_pdf(tmp_path: Path, name: str) -> None:
    path = corpus.write(tmp_path / "upload", corpus.valid_pdf())

    if name == corpus.RTL_OVERRIDE_NAME:
        # With the override removed, the real extension shows: it is not a .pdf.
        with pytest.raises(FileRejected) as caught:
            inspect_file(path, name, FilePolicy())
        assert caught.value.codes == ["type_mismatch"]
        return
    inspected = inspect_file(path, name, FilePolicy())
    assert "/" not in inspected.filename
    assert inspected.filename.endswith(".pdf")
    assert len(inspected.filename) <= 120


@given(st.text(max_size=400))
def test_any_name_becomes_a_safe_display_name(name: str) -> None:
    sanitized = sanitize_filename(name)

    assert 0 < len(sanitized) <= 120
    assert "/" not in sanitized
    assert "\\" not in sanitized
    assert not sanitized.startswith(".")
    assert not any(char in sanitized for char in BIDI)
    assert not any(unicodedata.category(char) in {"Cc", "Cs"} for char in sanitized)
    assert unicodedata.is_normalized("NFC", sanitized)
    sanitized.encode("utf-8")


@given(st.from_regex(r"[A-Za-z0-9 _-]{1,300}", fullmatch=True), st.sampled_from(["pdf", "jpeg"]))
def test_the_extension_survives_any_length(stem: str, extension: str) -> None:
    sanitized = sanitize_filename(f"{stem}.{extension}")

    if stem.strip():
        assert sanitized.endswith(f".{extension}")
    assert len(sanitized) <= 120
