"""Errors raised by the crypto package. Messages never carry key material or plaintext."""

from __future__ import annotations

from clinvault.errors.backends import BackendUnavailable


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


class KeysUnavailable(KeyringError, BackendUnavailable):
    """The key service cannot be used now (unreachable, key disabled, access denied).

    A 503 with Retry-After for a request; the message names what to fix.
    """

    code = "keys_unavailable"
    title = "The key service is unavailable"
