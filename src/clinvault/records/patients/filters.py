"""The records-platform design's search filters over encrypted patients.

Gender, blood type and date of birth are encrypted, so they are filtered
through blind-index tokens stored beside the name, date and phone tokens
(`patient_search_tokens`): the normalized gender ("gender"), the blood type
("blood_type") and the birth year ("birth_year"). An age range is exact in
SQL: the birth years wholly inside it match by their year token, and the (at
most two) years it cuts, by the date-of-birth tokens of the days it keeps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from clinvault.crypto.blind_index import BlindIndexer
from clinvault.records.patients.schemas import BLOOD_TYPES, EARLIEST_BIRTH_DATE, GENDERS

GENDER = "gender"
BLOOD_TYPE = "blood_type"
BIRTH_YEAR = "birth_year"
DATE = "date"  # the date-of-birth token kind of search.py
MAX_AGE = 130
_BLOOD_GROUPS = frozenset(blood.rstrip("+-") for blood in BLOOD_TYPES)


class FilterUnusable(ValueError):
    """A filter value is not allowed; `field` names it and the message lists what is."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


def filter_tokens(
    indexer: BlindIndexer, *, gender: str | None, blood_type: str | None, date_of_birth: str | None
) -> set[tuple[str, str]]:
    """The (kind, digest) filter tokens of one patient."""
    tokens: set[tuple[str, str]] = set()
    if gender:
        tokens.add((GENDER, indexer.index(gender, kind=GENDER)))
    if blood_type:
        tokens.add((BLOOD_TYPE, indexer.index(blood_type, kind=BLOOD_TYPE)))
    if date_of_birth:
        year = str(date.fromisoformat(date_of_birth).year)
        tokens.add((BIRTH_YEAR, indexer.index(year, kind=BIRTH_YEAR)))
    return tokens


def parse_gender(value: str) -> str:
    text = value.strip().lower()
    if text not in GENDERS:
        raise FilterUnusable("gender", f"gender must be one of {', '.join(GENDERS)} (any case).")
    return text


def parse_blood_type(value: str) -> str:
    text = value.strip().upper()
    if value.endswith(" ") and text in _BLOOD_GROUPS:
        # "?blood_type=O+" unencoded: the query string turned the + into a space.
        text += "+"
    if text not in BLOOD_TYPES:
        raise FilterUnusable(
            "blood_type",
            f"blood_type must be one of {', '.join(BLOOD_TYPES)}; in a URL write + as %2B (O%2B).",
        )
    return text


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


@dataclass(frozen=True)
class AgeTokens:
    """Birth-year digests (whole years) and date-of-birth digests (the cut years' days)."""

    years: list[str] = field(default_factory=list)
    dates: list[str] = field(default_factory=list)


def age_tokens(
    indexer: BlindIndexer, *, age_min: int | None, age_max: int | None, today: date
) -> AgeTokens:
    """The tokens of every date of birth whose age today is in [age_min, age_max]."""
    low = 0 if age_min is None else age_min
    high = MAX_AGE if age_max is None else min(age_max, MAX_AGE)
    if low > high:
        return AgeTokens()
    tokens = AgeTokens()
    # Born in year y: aged today.year - y - 1 before the birthday, today.year - y after.
    for year in range(max(today.year - high - 1, EARLIEST_BIRTH_DATE.year), today.year - low + 1):
        if low <= today.year - year - 1 and today.year - year <= high:
            tokens.years.append(indexer.index(str(year), kind=BIRTH_YEAR))
            continue
        day = date(year, 1, 1)
        while day.year == year and day <= today:
            if low <= age_on(day, today) <= high:
                tokens.dates.append(indexer.index(day.isoformat(), kind=DATE))
            day += timedelta(days=1)
    return tokens


@dataclass(frozen=True)
class PatientFilters:
    """Validated filters of a patient search, as digests to match (all must hold)."""

    gender: str | None = None
    blood_type: str | None = None
    ages: AgeTokens | None = None

    @property
    def empty(self) -> bool:
        return self.gender is None and self.blood_type is None and self.ages is None


def plan_filters(
    indexer: BlindIndexer,
    *,
    gender: str | None,
    blood_type: str | None,
    age_min: int | None,
    age_max: int | None,
    today: date,
) -> PatientFilters:
    for name, age in (("age_min", age_min), ("age_max", age_max)):
        if age is not None and not 0 <= age <= MAX_AGE:
            raise FilterUnusable(name, f"{name} must be a whole number from 0 to {MAX_AGE}.")
    if age_min is not None and age_max is not None and age_min > age_max:
        raise FilterUnusable(
            "age_max", "age_max must be at least age_min (both bounds are included)."
        )
    ages = None
    if age_min is not None or age_max is not None:
        ages = age_tokens(indexer, age_min=age_min, age_max=age_max, today=today)
    return PatientFilters(
        gender=None if gender is None else indexer.index(parse_gender(gender), kind=GENDER),
        blood_type=(
            None
            if blood_type is None
            else indexer.index(parse_blood_type(blood_type), kind=BLOOD_TYPE)
        ),
        ages=ages,
    )
