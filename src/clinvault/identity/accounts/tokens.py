"""The link token of a password reset: derived from its row, never stored (ADR 0004)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid

from clinvault.crypto.ports import KeyProvider
from clinvault.identity.tokens import KEY_PURPOSE

RESET_TOKEN_MAX = 128


def reset_token(keys: KeyProvider, reset_id: uuid.UUID, nonce: str, key_version: int) -> str:
    key = keys.derive(KEY_PURPOSE, key_version)
    mac = hmac.new(key, f"password-reset:{reset_id}:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")
