"""Object key rules shared by every storage adapter.

A key is relative and '/'-separated: no empty, "." or ".." segment, no leading
slash, no backslash, no control character. The same rules on every backend mean
a key accepted by one adapter is accepted by all of them.
"""

from __future__ import annotations

from clinvault.storage.ports import KeyRejected

MAX_KEY_BYTES = 1024


def validate_key(key: str) -> str:
    """Return the key unchanged or raise `KeyRejected` saying which rule it breaks."""
    if not key:
        raise KeyRejected("object key is empty")
    _check_characters(key)
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise KeyRejected(f"object key is longer than {MAX_KEY_BYTES} bytes")
    if key.startswith("/"):
        raise KeyRejected(f"object key {key!r} is absolute; keys are relative to the root")
    for segment in key.split("/"):
        _check_segment(key, segment)
    return key


def validate_prefix(prefix: str) -> str:
    """Like `validate_key`, but empty is allowed and the last segment may be partial."""
    if not prefix:
        return prefix
    _check_characters(prefix)
    if prefix.startswith("/"):
        raise KeyRejected(f"prefix {prefix!r} is absolute; keys are relative to the root")
    for segment in prefix.split("/")[:-1]:
        _check_segment(prefix, segment)
    return prefix


def _check_characters(key: str) -> None:
    if "\\" in key:
        raise KeyRejected(f"object key {key!r} contains a backslash; separate segments with '/'")
    if any(ord(ch) < 0x20 or ch == "\x7f" for ch in key):
        raise KeyRejected(f"object key {key!r} contains a control character")


def _check_segment(key: str, segment: str) -> None:
    if segment in ("", ".", ".."):
        raise KeyRejected(f"object key {key!r} has an empty, '.' or '..' segment")
