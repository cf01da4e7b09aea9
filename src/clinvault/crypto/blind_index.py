"""Blind indexes: keyed digests of normalized values for searching encrypted columns.

An encrypted column cannot be compared in SQL, so a searchable one gets a
sibling column holding HMAC-SHA256(normalized value) and, for prefix search, a
row per normalized prefix. Queries compute the same digests and compare.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime

from clinvault.crypto.ports import KeyProvider

DEFAULT_MAX_PREFIX = 16
_NON_WORD = re.compile(r"[\W_]+")
_WHITESPACE = re.compile(r"\s+")
_APOSTROPHES = str.maketrans("", "", "'\u2019\u02bc")


def normalize_name(value: str) -> str:
    """Case, accents, apostrophes and punctuation are ignored: "O'Brien-Núñez" -> "obrien nunez"."""
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", value).casefold())
    text = "".join(ch for ch in folded if not unicodedata.combining(ch))
    text = unicodedata.normalize("NFC", text).translate(_APOSTROPHES)
    return _NON_WORD.sub(" ", text).strip()


def normalize_email(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip().casefold()


def normalize_phone(value: str) -> str:
    """Digits only, any script's digits read as ASCII: "+1 (555) 010-0199" == "15550100199"."""
    return "".join(str(unicodedata.decimal(ch)) for ch in value if ch.isdecimal())


def normalize_date(value: str | date) -> str:
    """ISO 8601 calendar date; strings must already be ISO (01/02/2024 is ambiguous)."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = value.strip()
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text).date().isoformat()
    except ValueError:
        raise ValueError("a date to index must be ISO 8601, e.g. 1984-03-07") from None


def normalize_text(value: str) -> str:
    """Identifiers and free text: compatibility forms folded, case and spacing ignored."""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFKC", value).casefold()).strip()


NORMALIZERS: dict[str, Callable[[str], str]] = {
    "name": normalize_name,
    "email": normalize_email,
    "phone": normalize_phone,
    "date": normalize_date,
    "text": normalize_text,
    # Patient search filters: a code from a closed list ("female", "O+", "1985").
    "gender": normalize_text,
    "blood_type": normalize_text,
    "birth_year": normalize_text,
}


class BlindIndexer:
    """Computes blind indexes under `derive("blind-index")`.

    The index key is separate from the field key for three reasons. It must
    never rotate: rotating it would change every stored digest and require
    decrypting every row to rebuild them, while the field key rotates freely
    because old tokens keep their version. A digest is deterministic, so it
    already reveals equal values; keeping its key apart means a leak of either
    key does not weaken the other (the field key decrypts, the index key only
    confirms guesses). And one key is never used by two algorithms.

    Every digest is domain-separated by `kind` (and by whether it is a prefix),
    so equal strings of different kinds produce unrelated digests.
    """

    def __init__(self, keys: KeyProvider) -> None:
        self._keys = keys
        self._key: bytes | None = None

    def index(self, value: str, *, kind: str) -> str:
        """Hex HMAC-SHA256 of the value normalized for `kind`."""
        return self._digest(kind, self._normalize(value, kind))

    def prefixes(
        self,
        value: str,
        kind: str,
        *,
        min_len: int = 2,
        max_len: int = DEFAULT_MAX_PREFIX,
    ) -> list[str]:
        """Digests of the normalized prefixes of `min_len`..`max_len` characters, to store."""
        if not 1 <= min_len <= max_len:
            raise ValueError("prefix lengths must satisfy 1 <= min_len <= max_len")
        normalized = self._normalize(value, kind)
        return [
            self._digest(f"{kind}/prefix", normalized[:length])
            for length in range(min_len, min(max_len, len(normalized)) + 1)
            if not normalized[length - 1].isspace()
        ]

    def prefix_index(self, prefix: str, *, kind: str, max_len: int = DEFAULT_MAX_PREFIX) -> str:
        """The digest to look up for a typed prefix; longer input is cut to `max_len`.

        A cut query matches a superset of rows, so the caller filters the
        decrypted results.
        """
        normalized = self._normalize(prefix, kind)[:max_len].rstrip()
        return self._digest(f"{kind}/prefix", normalized)

    def _normalize(self, value: str, kind: str) -> str:
        normalizer = NORMALIZERS.get(kind)
        if normalizer is None:
            raise ValueError(f"unknown blind index kind {kind!r}; known: {', '.join(NORMALIZERS)}")
        normalized = normalizer(value)
        if not normalized:
            raise ValueError(f"the value has nothing to index as {kind!r} once normalized")
        return normalized

    def _digest(self, domain: str, normalized: str) -> str:
        if self._key is None:
            self._key = self._keys.derive("blind-index")
        message = domain.encode("utf-8") + b"\x00" + normalized.encode("utf-8")
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()
