"""How a search box query becomes blind-index lookups, and the tokens stored per patient."""

from __future__ import annotations

import pytest

from clinvault.crypto.blind_index import BlindIndexer
from clinvault.records.patients.search import (
    NAME,
    QueryUnusable,
    SearchPlan,
    matches_long_words,
    patient_tokens,
    plan_search,
)


class FixedKeys:
    current_version = 1

    def derive(self, purpose: str, version: int | None = None) -> bytes:
        return (purpose.encode() * 32)[:32]


@pytest.fixture
def indexer() -> BlindIndexer:
    return BlindIndexer(FixedKeys())  # type: ignore[arg-type]


def test_name_prefixes_of_every_word(indexer: BlindIndexer) -> None:
    tokens = patient_tokens(
        indexer,
        first_name="Jo Ann",
        last_name="Núñez",
        date_of_birth="1970-01-01",
        phone=None,
        gender="female",
        blood_type=None,
    )
    names = {digest for kind, digest in tokens if kind == NAME}
    for prefix in ("jo", "an", "ann", "nu", "nun", "nunez"):
        assert indexer.prefix_index(prefix, kind=NAME) in names
    assert indexer.prefix_index("a", kind=NAME) not in names
    assert {kind for kind, _ in tokens} == {"name", "date", "gender", "birth_year"}


def test_query_kinds(indexer: BlindIndexer) -> None:
    born = plan_search(indexer, "1970-01-01", default_country_code="1")
    assert born.date
    assert not born.name_prefixes
    assert born.mrn is None
    phone = plan_search(indexer, "(617) 555-0142", default_country_code="1")
    assert phone.phone == indexer.index("+16175550142", kind="phone")
    assert not phone.name_prefixes
    named = plan_search(indexer, "Ada Love", default_country_code="1")
    assert named.name_prefixes == [
        indexer.prefix_index("ada", kind=NAME),
        indexer.prefix_index("love", kind=NAME),
    ]
    assert named.mrn is None
    mrn = plan_search(indexer, "X-4471", default_country_code="1")
    assert mrn.mrn == indexer.index("x-4471", kind="text")


@pytest.mark.parametrize("query", ["", "a", "  b ", "2024-02-30", "x" * 101, "'-"])
def test_unusable_queries(indexer: BlindIndexer, query: str) -> None:
    with pytest.raises(QueryUnusable):
        plan_search(indexer, query, default_country_code="1")


def test_long_words_are_rechecked_after_decryption() -> None:
    plan = SearchPlan(long_words=["wolfeschlegelsteinhausen"])
    assert matches_long_words(plan, "Hubert", "Wolfeschlegelsteinhausenbergerdorff")
    assert not matches_long_words(plan, "Hubert", "Wolfeschlegelsteinhauser")
