"""Phone numbers to E.164 with a default calling code."""

from __future__ import annotations

import pytest

from clinvault.records.phones import PhoneInvalid, looks_like_phone, to_e164


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("+1 (617) 555-0142", "1", "+16175550142"),
        ("(617) 555-0142", "1", "+16175550142"),
        ("1-617-555-0142", "1", "+16175550142"),
        ("617.555.0142", "1", "+16175550142"),
        ("+44 20 7183 8750", "1", "+442071838750"),
        ("0044 20 7183 8750", "1", "+442071838750"),
        ("020 7183 8750", "44", "+442071838750"),
        ("030 1234567", "49", "+49301234567"),
    ],
)
def test_normalizes(raw: str, country: str, expected: str) -> None:
    assert to_e164(raw, country) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "555 0101",
        "call me",
        "+12",
        "+1234567890123456",
        "617-555-0142 ext 5",
        "",
        "+0123456789",
        "+1-555-1234",
        "+1 617 555 01420",
    ],
)
def test_refuses(raw: str) -> None:
    with pytest.raises(PhoneInvalid):
        to_e164(raw, "1")


def test_phone_like_queries() -> None:
    assert looks_like_phone("(617) 555")
    assert not looks_like_phone("1971")
    assert not looks_like_phone("ada")
