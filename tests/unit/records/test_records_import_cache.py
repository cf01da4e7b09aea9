"""The import job's per-job cache gives exactly what the per-row computations give."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from clinvault.crypto.blind_index import BlindIndexer, normalize_text
from clinvault.crypto.errors import IntegrityError
from clinvault.crypto.field_cipher import AesGcmFieldCipher
from clinvault.crypto.fields import FieldCipher, field_cipher, install_field_cipher
from clinvault.records.imports.cache import UNKNOWN_GENDER, ImportCache
from clinvault.records.patients.search import mrn_digest, patient_tokens


class FixedKeys:
    current_version = 1

    def derive(self, purpose: str, version: int | None = None) -> bytes:
        return (purpose.encode() * 32)[:32]


@pytest.fixture
def cipher() -> Iterator[AesGcmFieldCipher]:
    try:
        previous: FieldCipher | None = field_cipher()
    except RuntimeError:
        previous = None
    installed = AesGcmFieldCipher(FixedKeys())  # type: ignore[arg-type]
    install_field_cipher(installed)
    yield installed
    install_field_cipher(previous)


@pytest.fixture
def indexer() -> BlindIndexer:
    return BlindIndexer(FixedKeys())  # type: ignore[arg-type]


NAMES = [
    ("Olivia", "Smith"),
    ("José", "O'Brien-Núñez"),
    ("Zoë Anne", "Müller"),
    ("Al", "Xu"),
    ("Olivia", "Smithsonian-Vanderbiltworthington"),
]


def test_patient_tokens_are_those_of_a_patient_registered_with_unknown_gender(
    indexer: BlindIndexer,
) -> None:
    cache = ImportCache(indexer, limit=3)  # smaller than the names: cleared on the way
    for _ in range(2):
        for first, last in NAMES:
            assert cache.patient_tokens(first, last) == patient_tokens(
                indexer,
                first_name=first,
                last_name=last,
                date_of_birth=None,
                phone=None,
                gender=UNKNOWN_GENDER,
                blood_type=None,
            )


def test_mrn_digests_and_given_names_match_the_per_row_functions(indexer: BlindIndexer) -> None:
    cache = ImportCache(indexer, limit=2)
    for mrn in ["MRN-1", "MRN-2", "mrn-1", "MRN-3", "MRN-1"]:
        assert cache.mrn_digest(mrn) == mrn_digest(indexer, mrn)
    for name in ["  Olivia ", "OLIVIA", "Zoë", "Zoë"]:
        assert cache.given_name(name) == normalize_text(name)


def test_a_stored_name_is_read_by_its_ciphertext_and_column(
    indexer: BlindIndexer, cipher: AesGcmFieldCipher
) -> None:
    cache = ImportCache(indexer)
    before = cipher.encrypt_text("Olivia", context="patients.first_name")
    assert cache.stored_name(before, "patients.first_name") == "olivia"
    assert cache.stored_name(before, "patients.first_name") == "olivia"
    renamed = cipher.encrypt_text("Emma", context="patients.first_name")
    assert cache.stored_name(renamed, "patients.first_name") == "emma"
    # The same token in another column fails there, cached or not.
    with pytest.raises(IntegrityError):
        cache.stored_name(before, "patients.last_name")
