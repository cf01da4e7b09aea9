"""Blind-index digests of a patient, and how one search box maps to them.

Stored per patient (`patient_search_tokens`): every prefix of 2 to 16
characters of every word of the normalized first and last names ("name"),
the ISO date of birth ("date") and the E.164 phone ("phone"), and the filter
tokens (gender, blood type, birth year: see filters.py). The MRN digest
lives on the patient row, where it also keeps the MRN unique.

A query is read as: an ISO date -> date of birth; phone-like -> phone or
exact MRN; anything else -> exact MRN or name prefixes, every word of the
query matching the start of some name word (case and accents ignored).
Only the `MAX_INDEXED_WORDS` longest words are looked up (each is one more
join); the others, like words longer than the stored prefixes, are checked on
the decrypted names.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from datetime import date

from clinvault.crypto.blind_index import DEFAULT_MAX_PREFIX, BlindIndexer, normalize_name
from clinvault.records.patients.filters import filter_tokens
from clinvault.records.phones import PhoneInvalid, looks_like_phone, to_e164

NAME = "name"
DATE = "date"
PHONE = "phone"
MIN_QUERY = 2
MAX_QUERY = 100
MAX_INDEXED_WORDS = 4
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class QueryUnusable(ValueError):
    """The query cannot be searched; the message says how to fix it."""


def mrn_digest(indexer: BlindIndexer, mrn: str) -> str:
    return indexer.index(mrn, kind="text")


def name_words(*names: str) -> list[str]:
    words: list[str] = []
    for name in names:
        for word in normalize_name(name).split():
            if word not in words:
                words.append(word)
    return words


def patient_tokens(
    indexer: BlindIndexer,
    *,
    first_name: str,
    last_name: str,
    date_of_birth: str | None,
    phone: str | None,
    gender: str | None,
    blood_type: str | None,
) -> list[tuple[str, str]]:
    """(kind, digest) pairs to store for one patient, without duplicates (with the filter
    tokens of filters.py)."""
    tokens = filter_tokens(
        indexer, gender=gender, blood_type=blood_type, date_of_birth=date_of_birth
    )
    for word in name_words(first_name, last_name):
        if len(word) >= MIN_QUERY:
            tokens.update((NAME, digest) for digest in indexer.prefixes(word, NAME))
    if date_of_birth:  # empty for a patient created by an import without one
        tokens.add((DATE, indexer.index(date_of_birth, kind=DATE)))
    if phone:
        tokens.add((PHONE, indexer.index(phone, kind=PHONE)))
    return sorted(tokens)


@dataclass
class SearchPlan:
    mrn: str | None = None
    date: str | None = None
    phone: str | None = None
    name_prefixes: list[str] = field(default_factory=list)
    # Query words longer than the stored prefixes or beyond MAX_INDEXED_WORDS: results are
    # re-checked after decryption.
    long_words: list[str] = field(default_factory=list)


def plan_search(indexer: BlindIndexer, query: str, *, default_country_code: str) -> SearchPlan:
    text = query.strip()
    if not MIN_QUERY <= len(text) <= MAX_QUERY:
        raise QueryUnusable(
            f"Type {MIN_QUERY} to {MAX_QUERY} characters: a name prefix, an MRN, a date of "
            "birth (YYYY-MM-DD) or a phone number."
        )
    if _ISO_DATE.fullmatch(text):
        try:
            born = date.fromisoformat(text)
        except ValueError:
            raise QueryUnusable("The date is not a calendar date: use YYYY-MM-DD.") from None
        return SearchPlan(date=indexer.index(born.isoformat(), kind=DATE))
    plan = SearchPlan()
    if _mrn_like(text):
        plan.mrn = mrn_digest(indexer, text)
    if looks_like_phone(text):
        with contextlib.suppress(PhoneInvalid):
            plan.phone = indexer.index(to_e164(text, default_country_code), kind=PHONE)
        return plan
    words = [word for word in name_words(text) if len(word) >= MIN_QUERY]
    if not words and plan.mrn is None:
        raise QueryUnusable(
            "Type at least 2 letters of a first or last name, an MRN, a date of birth "
            "(YYYY-MM-DD) or a phone number."
        )
    indexed = set(sorted(words, key=len, reverse=True)[:MAX_INDEXED_WORDS])
    plan.name_prefixes = [
        indexer.prefix_index(word, kind=NAME) for word in words if word in indexed
    ]
    plan.long_words = [
        word for word in words if len(word) > DEFAULT_MAX_PREFIX or word not in indexed
    ]
    return plan


def matches_long_words(plan: SearchPlan, first_name: str, last_name: str) -> bool:
    if not plan.long_words:
        return True
    words = name_words(first_name, last_name)
    return all(any(word.startswith(query) for word in words) for query in plan.long_words)


def _mrn_like(text: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]{0,31}", text))
