"""Column types for PHI: `EncryptedString` and the installed field cipher.

The cipher is installed once by the composition root; the column type reads
it at bind/result time so models stay free of configuration.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class FieldCipher(Protocol):
    def encrypt_text(self, plaintext: str, *, context: str) -> str: ...

    def decrypt_text(self, token: str, *, context: str) -> str: ...


_installed: FieldCipher | None = None


def install_field_cipher(cipher: FieldCipher | None) -> None:
    global _installed
    _installed = cipher


def field_cipher() -> FieldCipher:
    if _installed is None:
        raise RuntimeError("no field cipher installed: build the app through bootstrap")
    return _installed


class EncryptedString(TypeDecorator[str]):
    """A text column stored as AES-256-GCM ciphertext bound to its column name."""

    impl = Text
    cache_ok = True

    def __init__(self, context: str) -> None:
        super().__init__()
        self.context = context

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return field_cipher().encrypt_text(value, context=self.context)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return field_cipher().decrypt_text(str(value), context=self.context)
