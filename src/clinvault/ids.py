"""Identifiers: UUIDv7 primary keys and human-safe references."""

from __future__ import annotations

import os
import secrets
import time
import uuid

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CHECK_SYMBOLS = _CROCKFORD + "*~$=U"


def uuid7() -> uuid.UUID:
    """A time-ordered UUID (RFC 9562 version 7): index-friendly, not guessable."""
    unix_ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (unix_ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return uuid.UUID(int=value)


def reference(length: int = 10) -> str:
    """A random Crockford base32 reference with a mod-37 check symbol."""
    number = secrets.randbits(5 * length)
    body = "".join(_CROCKFORD[(number >> (5 * i)) & 31] for i in reversed(range(length)))
    return body + _CHECK_SYMBOLS[number % 37]


def normalize_reference(text: str) -> str:
    cleaned = text.strip().upper().replace("-", "").replace(" ", "")
    return cleaned.translate(str.maketrans("OIL", "011"))


def reference_is_valid(text: str) -> bool:
    ref = normalize_reference(text)
    if len(ref) < 2 or any(c not in _CROCKFORD for c in ref[:-1]):
        return False
    number = 0
    for char in ref[:-1]:
        number = number * 32 + _CROCKFORD.index(char)
    return _CHECK_SYMBOLS[number % 37] == ref[-1]
