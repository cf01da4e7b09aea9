"""Errors raised by the crypto package. Messages never carry key material or plaintext."""

from __future__ import annotations


class CryptoError(Exception):
    pass


class IntegrityError(CryptoError):
    """Ciphertext, a wrapped key or a checksum failed verification: tampered or truncated."""


class KeyringError(CryptoError):
    """The keyring file is missing, unreadable, malformed or unsafe."""


class KeyringPermissionsUnsafe(KeyringError):
    """The keyring file can be read or written by other users."""


class KeyVersionUnknown(KeyringError):
    """A wrapped key or token names a key version the keyring does not hold."""
