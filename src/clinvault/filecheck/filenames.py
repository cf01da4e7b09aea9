"""Client file names turned into safe display names.

The result is only ever shown to people; it never becomes part of a storage key.
"""

from __future__ import annotations

import unicodedata

MAX_FILENAME_CHARS = 120
FALLBACK_FILENAME = "document"
_MAX_EXTENSION_CHARS = 10
# Explicit bidi embeddings, overrides and isolates (U+202A-202E, U+2066-2069) plus the
# implicit direction marks: they can make "evil\u202efdp.exe" display as "evilexe.pdf".
_BIDI_CONTROLS = frozenset(
    [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2066, 0x206A)]
    + ["\u200e", "\u200f", "\u061c"]
)


def _is_dropped(char: str) -> bool:
    # Cc: NUL and other control characters; Cs: lone surrogates that cannot be encoded.
    return char in _BIDI_CONTROLS or unicodedata.category(char) in {"Cc", "Cs"}


def sanitize_filename(name: str) -> str:
    """A display name without directories, control or bidi characters, or leading dots,
    NFC-normalized and at most 120 characters with its extension kept. Never raises."""
    text = "".join(char for char in name if not _is_dropped(char))
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = text.strip().lstrip(".").strip().rstrip(". ")
    if not text:
        return FALLBACK_FILENAME
    if len(text) <= MAX_FILENAME_CHARS:
        return text
    stem, dot, extension = text.rpartition(".")
    if dot and stem and 0 < len(extension) <= _MAX_EXTENSION_CHARS:
        keep = MAX_FILENAME_CHARS - len(extension) - 1
        return stem[:keep].rstrip(". ") + "." + extension
    return text[:MAX_FILENAME_CHARS].rstrip(". ") or FALLBACK_FILENAME


def extension_of(filename: str) -> str | None:
    """The lower-case extension of a sanitized name, or None when it has none."""
    stem, dot, extension = filename.rpartition(".")
    if not dot or not stem or not extension:
        return None
    return extension.lower()
