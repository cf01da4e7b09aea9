"""Phone numbers to E.164, without a numbering-plan database.

Rules, deliberately simple:
- "+<digits>" or "00<digits>" is international: the digits (8 to 15) are kept;
  a +1 (North American) number has exactly 11 digits, so +1-555-1234 is refused.
- Anything else is national and gets the configured default calling code.
  For calling code 1 (North America) a national number has 10 digits, or 11
  starting with the trunk digit 1. For other codes one leading trunk "0" is
  dropped and the result must be 8 to 15 digits with the calling code.
Spaces, dots, dashes and parentheses are ignored; letters are not accepted.
"""

from __future__ import annotations

import re

ALLOWED = re.compile(r"^\+?[0-9 ().\-]{4,32}$")
MAX_E164_DIGITS = 15
MIN_E164_DIGITS = 8
NANP_DIGITS = 11  # +1 and ten digits: North America has no shorter numbers


class PhoneInvalid(ValueError):
    """Carries a message fit for the caller (no value echoed back)."""


def to_e164(raw: str, default_country_code: str) -> str:
    text = raw.strip()
    if not ALLOWED.fullmatch(text):
        raise PhoneInvalid(
            "use digits with optional spaces, dashes, dots or parentheses, e.g. "
            "+15550100199 or (555) 010-0199"
        )
    digits = "".join(ch for ch in text if ch.isdigit())
    if text.startswith("+"):
        number = digits
    elif digits.startswith("00"):
        number = digits[2:]
    else:
        number = default_country_code + _national(digits, default_country_code)
    if not MIN_E164_DIGITS <= len(number) <= MAX_E164_DIGITS or number.startswith("0"):
        raise PhoneInvalid(
            "an international number has a country code and 8 to 15 digits, e.g. +442071838750"
        )
    if number.startswith("1") and len(number) != NANP_DIGITS:
        raise PhoneInvalid("a +1 number has 10 digits after the country code, e.g. +1 555 010 0199")
    return "+" + number


def _national(digits: str, country_code: str) -> str:
    if country_code == "1":
        if len(digits) == 11 and digits.startswith("1"):
            digits = digits[1:]
        if len(digits) != 10:
            raise PhoneInvalid(
                "a national number has 10 digits, e.g. (555) 010-0199; write other "
                "countries' numbers with +country code"
            )
        return digits
    return digits[1:] if digits.startswith("0") else digits


def looks_like_phone(text: str) -> bool:
    """A search query made of phone characters with at least 6 digits."""
    return bool(ALLOWED.fullmatch(text.strip())) and sum(ch.isdigit() for ch in text) >= 6
