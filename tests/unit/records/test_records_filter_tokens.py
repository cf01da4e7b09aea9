"""Filter tokens: an age range is exactly the dates of birth whose age is in it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from clinvault.crypto.blind_index import BlindIndexer
from clinvault.records.patients.filters import (
    BIRTH_YEAR,
    DATE,
    FilterUnusable,
    age_on,
    age_tokens,
    filter_tokens,
    parse_blood_type,
    parse_gender,
    plan_filters,
)


class FixedKeys:
    current_version = 1

    def derive(self, purpose: str, version: int | None = None) -> bytes:
        return (purpose.encode() * 32)[:32]


@pytest.fixture
def indexer() -> BlindIndexer:
    return BlindIndexer(FixedKeys())  # type: ignore[arg-type]


def _matches(indexer: BlindIndexer, born: date, years: set[str], dates: set[str]) -> bool:
    return (
        indexer.index(str(born.year), kind=BIRTH_YEAR) in years
        or indexer.index(born.isoformat(), kind=DATE) in dates
    )


@pytest.mark.parametrize("today", [date(2026, 12, 6), date(2024, 2, 29), date(2025, 1, 1)])
@pytest.mark.parametrize(("low", "high"), [(30, 40), (0, 0), (0, 2), (41, 41), (None, 3)])
def test_age_range_matches_exactly_the_ages_in_it(
    indexer: BlindIndexer, today: date, low: int | None, high: int | None
) -> None:
    tokens = age_tokens(indexer, age_min=low, age_max=high, today=today)
    years, dates = set(tokens.years), set(tokens.dates)
    lowest = 0 if low is None else low
    highest = 130 if high is None else high
    # Every day of birth from a year before the range to today, checked one by one.
    day = date(max(today.year - min(highest, 50) - 2, 1900), 1, 1)
    while day <= today:
        expected = lowest <= age_on(day, today) <= highest
        assert _matches(indexer, day, years, dates) is expected, (day, today)
        day += timedelta(days=1)
    assert len(tokens.dates) <= 366 * 2


def test_wide_range_stays_a_short_list(indexer: BlindIndexer) -> None:
    tokens = age_tokens(indexer, age_min=0, age_max=130, today=date(2026, 6, 1))
    assert len(tokens.years) <= 131
    assert len(tokens.dates) <= 366


def test_patient_filter_tokens(indexer: BlindIndexer) -> None:
    tokens = filter_tokens(indexer, gender="male", blood_type="AB-", date_of_birth="1980-05-04")
    assert {kind for kind, _ in tokens} == {"gender", "blood_type", "birth_year"}
    assert filter_tokens(indexer, gender="unknown", blood_type=None, date_of_birth="") == {
        ("gender", indexer.index("unknown", kind="gender"))
    }


@pytest.mark.parametrize(("raw", "parsed"), [("O+", "O+"), ("ab-", "AB-"), ("O ", "O+")])
def test_blood_types(raw: str, parsed: str) -> None:
    assert parse_blood_type(raw) == parsed


@pytest.mark.parametrize("raw", ["C+", "O", "A+-", "", "0+"])
def test_unknown_blood_types(raw: str) -> None:
    with pytest.raises(FilterUnusable, match="A\\+, A-, B\\+, B-, AB\\+, AB-, O\\+, O-"):
        parse_blood_type(raw)


def test_genders() -> None:
    assert parse_gender(" Male ") == "male"
    with pytest.raises(FilterUnusable, match="female, male, other, unknown"):
        parse_gender("m")


@pytest.mark.parametrize(
    ("low", "high", "field"), [(5, 4, "age_max"), (-1, None, "age_min"), (None, 131, "age_max")]
)
def test_impossible_ranges(
    indexer: BlindIndexer, low: int | None, high: int | None, field: str
) -> None:
    with pytest.raises(FilterUnusable) as raised:
        plan_filters(
            indexer, gender=None, blood_type=None, age_min=low, age_max=high, today=date.today()
        )
    assert raised.value.field == field
