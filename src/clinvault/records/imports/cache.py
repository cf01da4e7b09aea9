"""What an import job computes once instead of once per row: one per job, bounded.

The same names, MRNs and stored name ciphertexts come back batch after batch
(a patient has several visits; first and last names repeat across patients),
and each costs HMACs, Unicode normalization or an AES-GCM decryption. The
cache keeps the results for the job's lifetime; each table is cleared when it
reaches `limit` entries, so memory stays bounded whatever the file's size.
Only digests and normalized names of the job's own rows are held, in memory.
"""

from __future__ import annotations

from typing import TypeVar

from clinvault.crypto.blind_index import BlindIndexer, normalize_text
from clinvault.crypto.fields import field_cipher
from clinvault.records.patients.filters import filter_tokens
from clinvault.records.patients.search import MIN_QUERY, NAME, mrn_digest, name_words

K = TypeVar("K")
V = TypeVar("V")

LIMIT = 20_000
UNKNOWN_GENDER = "unknown"


class ImportCache:
    def __init__(self, indexer: BlindIndexer, limit: int = LIMIT) -> None:
        self.indexer = indexer
        self.limit = limit
        self._mrns: dict[str, str] = {}
        self._prefixes: dict[str, list[str]] = {}
        self._words: dict[tuple[str, str], list[str]] = {}
        self._stored: dict[tuple[str, str], str] = {}
        self._given: dict[str, str] = {}
        self._filters = sorted(
            filter_tokens(indexer, gender=UNKNOWN_GENDER, blood_type=None, date_of_birth=None)
        )

    def mrn_digest(self, mrn: str) -> str:
        digest = self._mrns.get(mrn)
        if digest is None:
            digest = _put(self._mrns, mrn, mrn_digest(self.indexer, mrn), self.limit)
        return digest

    def patient_tokens(self, first_name: str, last_name: str) -> list[tuple[str, str]]:
        """`search.patient_tokens` of an imported patient (names, unknown gender, nothing else)."""
        tokens = set(self._filters)
        for word in self._name_words(first_name, last_name):
            if len(word) >= MIN_QUERY:
                tokens.update((NAME, digest) for digest in self._word_prefixes(word))
        return sorted(tokens)

    def given_name(self, name: str) -> str:
        """A name of the file, normalized for the name check."""
        normalized = self._given.get(name)
        if normalized is None:
            normalized = _put(self._given, name, normalize_text(name), self.limit)
        return normalized

    def stored_name(self, token: str, context: str) -> str:
        """A stored name (its field ciphertext), decrypted and normalized for the name check.

        Keyed by the ciphertext, so a patient renamed meanwhile (a new ciphertext) is
        decrypted again, never compared with a stale name.
        """
        key = (context, token)  # a token copied into another column still fails there
        normalized = self._stored.get(key)
        if normalized is None:
            plain = field_cipher().decrypt_text(token, context=context)
            normalized = _put(self._stored, key, normalize_text(plain), self.limit)
        return normalized

    def _name_words(self, first_name: str, last_name: str) -> list[str]:
        key = (first_name, last_name)
        words = self._words.get(key)
        if words is None:
            words = _put(self._words, key, name_words(first_name, last_name), self.limit)
        return words

    def _word_prefixes(self, word: str) -> list[str]:
        digests = self._prefixes.get(word)
        if digests is None:
            digests = _put(self._prefixes, word, self.indexer.prefixes(word, NAME), self.limit)
        return digests


def _put(table: dict[K, V], key: K, value: V, limit: int) -> V:
    if len(table) >= limit:
        table.clear()
    table[key] = value
    return value
