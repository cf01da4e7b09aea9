"""Check digits of practitioner identifiers: DEA registration numbers and NPIs.

Both functions are case- and whitespace-tolerant at the edges only: callers store
the value returned by the matching normalize function.
"""

from __future__ import annotations

import re

# The first letter of a DEA number names the registrant type.
DEA_REGISTRANT_TYPES = frozenset("ABCDEFGHJKLMPRSTUX")
_DEA_PATTERN = re.compile(r"[A-Z][A-Z9][0-9]{7}", re.ASCII)
_NPI_PATTERN = re.compile(r"[0-9]{10}", re.ASCII)
# An NPI is checked as the ISO 7812 card number 80840 + NPI (health-industry prefix).
_NPI_PREFIX = "80840"


def normalize_dea_number(value: str) -> str:
    return value.strip().upper()


def normalize_npi(value: str) -> str:
    return value.strip()


def dea_number_is_valid(value: str) -> bool:
    """Two letters and seven digits whose last digit is the check digit: the last
    digit of (d1 + d3 + d5) + 2 * (d2 + d4 + d6)."""
    number = normalize_dea_number(value)
    if not _DEA_PATTERN.fullmatch(number) or number[0] not in DEA_REGISTRANT_TYPES:
        return False
    digits = [int(char) for char in number[2:]]
    odd = digits[0] + digits[2] + digits[4]
    even = digits[1] + digits[3] + digits[5]
    return (odd + 2 * even) % 10 == digits[6]


def npi_is_valid(value: str) -> bool:
    """Ten digits passing the Luhn check with the 80840 prefix."""
    number = normalize_npi(value)
    if not _NPI_PATTERN.fullmatch(number):
        return False
    return _luhn_valid(_NPI_PREFIX + number)


def _luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0
