"""DEA registration numbers and NPIs pass their check digits, nothing else does."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinvault.credentials.identifiers import (
    DEA_REGISTRANT_TYPES,
    dea_number_is_valid,
    normalize_dea_number,
    npi_is_valid,
)

DIGITS = st.lists(st.integers(0, 9), min_size=6, max_size=6)
REGISTRANT = st.sampled_from(sorted(DEA_REGISTRANT_TYPES))
SECOND = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ9")


def dea_check_digit(digits: list[int]) -> int:
    return (digits[0] + digits[2] + digits[4] + 2 * (digits[1] + digits[3] + digits[5])) % 10


def npi_check_digit(first_nine: str) -> int:
    """The CMS method: double every other digit from the right, add 24 for 80840."""
    total = 24
    for position, char in enumerate(reversed(first_nine)):
        digit = int(char)
        if position % 2 == 0:
            digit = sum(divmod(digit * 2, 10))
        total += digit
    return (10 - total % 10) % 10


@pytest.mark.parametrize(
    "number", ["AB1234563", "BJ6125341", "FN5623740", "MX9999991", "A91234563"]
)
def test_known_dea_numbers_are_valid(number: str) -> None:
    assert dea_number_is_valid(number)


@pytest.mark.parametrize(
    "number",
    [
        "AB1234564",  # wrong check digit
        "IB1234563",  # I is not a registrant type
        "NB1234563",  # nor N
        "A11234563",  # second character a digit other than 9
        "AB123456",  # too short
        "AB12345634",  # too long
        "AB12345X3",
        "AB\u0661\u0662\u0663\u0664\u0665\u0666\u0663",  # Arabic-Indic digits
        "",
    ],
)
def test_malformed_dea_numbers_are_invalid(number: str) -> None:
    assert not dea_number_is_valid(number)


def test_dea_numbers_are_read_case_insensitively() -> None:
    assert dea_number_is_valid(" ab1234563 ")
    assert normalize_dea_number(" ab1234563 ") == "AB1234563"


@given(REGISTRANT, SECOND, DIGITS)
def test_every_dea_number_with_its_check_digit_is_valid(
    first: str, second: str, digits: list[int]
) -> None:
    body = "".join(map(str, digits))
    check = dea_check_digit(digits)

    assert dea_number_is_valid(f"{first}{second}{body}{check}")
    for wrong in set(range(10)) - {check}:
        assert not dea_number_is_valid(f"{first}{second}{body}{wrong}")


@given(st.sampled_from(sorted(set("ABCDEFGHIJKLMNOPQRSTUVWXYZ") - DEA_REGISTRANT_TYPES)), DIGITS)
def test_other_first_letters_are_invalid(first: str, digits: list[int]) -> None:
    body = "".join(map(str, digits))

    assert not dea_number_is_valid(f"{first}B{body}{dea_check_digit(digits)}")


@pytest.mark.parametrize("npi", ["1234567893", "1245319599", "1003000126"])
def test_known_npis_are_valid(npi: str) -> None:
    assert npi_is_valid(npi)


@pytest.mark.parametrize(
    "npi",
    [
        "1234567890",
        "123456789",
        "12345678931",
        "12345678a3",
        "",
        "\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19\uff13",
    ],
)
def test_malformed_npis_are_invalid(npi: str) -> None:
    assert not npi_is_valid(npi)


@given(st.from_regex(r"[0-9]{9}", fullmatch=True))
def test_every_npi_with_its_check_digit_is_valid(first_nine: str) -> None:
    check = npi_check_digit(first_nine)

    assert npi_is_valid(f"{first_nine}{check}")
    for wrong in set(range(10)) - {check}:
        assert not npi_is_valid(f"{first_nine}{wrong}")


@given(st.from_regex(r"[0-9]{9}", fullmatch=True), st.integers(0, 8), st.integers(1, 9))
def test_a_single_mistyped_npi_digit_is_caught(first_nine: str, index: int, shift: int) -> None:
    valid = f"{first_nine}{npi_check_digit(first_nine)}"
    mistyped = valid[:index] + str((int(valid[index]) + shift) % 10) + valid[index + 1 :]

    assert not npi_is_valid(mistyped)
