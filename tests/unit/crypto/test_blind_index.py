from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinvault.crypto.blind_index import (
    BlindIndexer,
    normalize_date,
    normalize_email,
    normalize_name,
    normalize_phone,
)
from clinvault.crypto.keyring import LocalKeyring

FULLWIDTH_DIGITS = str.maketrans("0123456789", "".join(chr(0xFF10 + d) for d in range(10)))


@pytest.fixture
def keyring(tmp_path: Path) -> LocalKeyring:
    return LocalKeyring(tmp_path / "keyring.json")


@pytest.fixture
def indexer(keyring: LocalKeyring) -> BlindIndexer:
    return BlindIndexer(keyring)


@pytest.mark.parametrize(
    "variant",
    [
        "José Álvarez",
        "jose alvarez",
        "JOSE ALVAREZ",
        "  José   Álvarez ",
        "José-Álvarez",
        "Jose\u0301 A\u0301lvarez",
        "Ｊｏｓé Álvarez",
    ],
)
def test_name_variants_normalize_alike(variant: str) -> None:
    assert normalize_name(variant) == "jose alvarez"


@pytest.mark.parametrize("variant", ["O'Brien", "OBrien", "o\u2019brien", "O\u02bcBRIEN"])
def test_apostrophes_in_names_are_ignored(variant: str) -> None:
    assert normalize_name(variant) == "obrien"


def test_email_normalization() -> None:
    assert normalize_email("  Ada.Lovelace@Example.ORG ") == "ada.lovelace@example.org"


@pytest.mark.parametrize(
    "variant",
    [
        "+1 (555) 010-0199",
        "1.555.010.0199",
        "15550100199",
        "15550100199".translate(FULLWIDTH_DIGITS),
        "1 555 010 0199",
    ],
)
def test_phone_formats_normalize_to_digits(variant: str) -> None:
    assert normalize_phone(variant) == "15550100199"


def test_phone_digits_of_other_scripts_are_read() -> None:
    assert normalize_phone("٠١٢٣") == "0123"


@pytest.mark.parametrize(
    "value",
    ["1984-03-07", " 1984-03-07 ", "19840307", date(1984, 3, 7), datetime(1984, 3, 7, 23, 59)],
)
def test_dates_normalize_to_iso(value: str | date) -> None:
    assert normalize_date(value) == "1984-03-07"


@pytest.mark.parametrize("value", ["03/07/1984", "7 March 1984", ""])
def test_ambiguous_dates_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="ISO 8601"):
        normalize_date(value)


def test_index_is_hex_hmac_equal_for_normalized_variants(indexer: BlindIndexer) -> None:
    digest = indexer.index("José Álvarez", kind="name")

    assert len(digest) == 64
    assert int(digest, 16) >= 0
    assert indexer.index("JOSE-ALVAREZ", kind="name") == digest
    assert indexer.index("jose alvarez", kind="name") != indexer.index("jose alvares", kind="name")
    assert indexer.index("+1 555 010 0199", kind="phone") == indexer.index(
        "15550100199", kind="phone"
    )


def test_kinds_are_domain_separated(indexer: BlindIndexer) -> None:
    digests = {indexer.index("15550100199", kind=kind) for kind in ("name", "phone", "text")}

    assert len(digests) == 3


def test_index_depends_on_the_key(indexer: BlindIndexer, tmp_path: Path) -> None:
    other = BlindIndexer(LocalKeyring(tmp_path / "other.json"))

    assert other.index("ada", kind="name") != indexer.index("ada", kind="name")


@pytest.mark.asyncio
async def test_index_is_stable_across_rotation(
    keyring: LocalKeyring, indexer: BlindIndexer
) -> None:
    before = indexer.index("Ada Lovelace", kind="name")

    await keyring.rotate()

    assert indexer.index("Ada Lovelace", kind="name") == before
    assert BlindIndexer(LocalKeyring(keyring.path)).index("Ada Lovelace", kind="name") == before


def test_unknown_kind_and_empty_values_are_refused(indexer: BlindIndexer) -> None:
    with pytest.raises(ValueError, match="unknown blind index kind"):
        indexer.index("x", kind="ssn")
    with pytest.raises(ValueError, match="nothing to index"):
        indexer.index("n/a", kind="phone")


def test_prefixes_match_prefix_queries(indexer: BlindIndexer) -> None:
    stored = indexer.prefixes("José Álvarez", "name")

    assert len(stored) == len(set(stored))
    assert indexer.prefix_index("JO", kind="name") in stored
    assert indexer.prefix_index("jose", kind="name") in stored
    assert indexer.prefix_index("José Álv", kind="name") in stored
    assert indexer.prefix_index("josé ", kind="name") in stored
    assert indexer.prefix_index("jx", kind="name") not in stored


def test_prefixes_skip_trailing_spaces_and_respect_bounds(indexer: BlindIndexer) -> None:
    # "ana maria": lengths 2..6 minus the one ending in a space ("ana ").
    assert len(indexer.prefixes("Ana María", "name", min_len=2, max_len=6)) == 4
    assert indexer.prefixes("A", "name") == []
    with pytest.raises(ValueError, match="min_len"):
        indexer.prefixes("Ana", "name", min_len=3, max_len=2)


def test_long_prefix_queries_are_cut_to_the_stored_maximum(indexer: BlindIndexer) -> None:
    stored = indexer.prefixes("Bartholomew-Featherstonehaugh", "name", max_len=8)

    assert indexer.prefix_index("Bartholomew", kind="name", max_len=8) in stored


def test_prefix_digests_differ_from_full_value_digests(indexer: BlindIndexer) -> None:
    assert indexer.prefix_index("ada", kind="name") != indexer.index("ada", kind="name")


@given(st.text(max_size=40))
def test_name_normalization_is_idempotent(value: str) -> None:
    once = normalize_name(value)

    assert normalize_name(once) == once


@given(st.text(max_size=40))
def test_phone_normalization_is_idempotent_and_ascii(value: str) -> None:
    once = normalize_phone(value)

    assert normalize_phone(once) == once
    assert once.isascii()
    assert once == "" or once.isdigit()
