"""AES-256-GCM encryption of single column values (the `FieldCipher` behind EncryptedString)."""

from __future__ import annotations

import base64
import binascii
import os
import re

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from clinvault.crypto.errors import IntegrityError
from clinvault.crypto.ports import KeyProvider

NONCE_BYTES = 12
TAG_BYTES = 16
_TOKEN = re.compile(r"v([1-9][0-9]{0,9}):([A-Za-z0-9_-]+={0,2})")


class AesGcmFieldCipher:
    """Tokens look like ``v3:<urlsafe-base64(nonce | ciphertext | tag)>``.

    The key is `derive("field", version)`, so writes use the current version
    and older tokens keep decrypting after rotation. The context (the column
    name) is the associated data: a token copied into another column does not
    decrypt there.
    """

    def __init__(self, keys: KeyProvider) -> None:
        self._keys = keys
        self._ciphers: dict[int, AESGCM] = {}

    def encrypt_text(self, plaintext: str, *, context: str) -> str:
        version = self._keys.current_version
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._cipher(version).encrypt(
            nonce, plaintext.encode("utf-8"), _associated_data(context)
        )
        return f"v{version}:" + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def decrypt_text(self, token: str, *, context: str) -> str:
        match = _TOKEN.fullmatch(token)
        if match is None:
            raise IntegrityError(f"value in {context!r} is not an encrypted field token")
        version = int(match.group(1))
        try:
            raw = base64.b64decode(match.group(2), altchars=b"-_", validate=True)
        except binascii.Error:
            raise IntegrityError(f"value in {context!r} has a corrupt token") from None
        if len(raw) < NONCE_BYTES + TAG_BYTES:
            raise IntegrityError(f"value in {context!r} has a truncated token")
        try:
            plaintext = self._cipher(version).decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], _associated_data(context)
            )
        except InvalidTag:
            raise IntegrityError(
                f"value in {context!r} failed authentication: tampered, or copied from "
                "another column"
            ) from None
        return plaintext.decode("utf-8")

    def _cipher(self, version: int) -> AESGCM:
        cipher = self._ciphers.get(version)
        if cipher is None:
            cipher = self._ciphers[version] = AESGCM(self._keys.derive("field", version))
        return cipher


def _associated_data(context: str) -> bytes:
    if not context:
        raise ValueError("an encrypted field needs a context (its column name)")
    return context.encode("utf-8")
