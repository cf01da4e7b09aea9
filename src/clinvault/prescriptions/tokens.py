"""Signed, expiring verification tokens for the paper copy of a prescription.

`v1.<key version>.<payload>.<mac>`: the payload (base64url) is
`<prescription id>:<generation>:<expiry day>`; the MAC is HMAC-SHA256 under a
key derived for this purpose. The prescription's `verification_generation`
is part of the payload and rises whenever the paper copy stops being the
right one (the pharmacy changes, the prescription is cancelled or stopped), so
an older token is refused as replayed even though its MAC is good.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import date

from clinvault.crypto.ports import KeyProvider

KEY_PURPOSE = "prescription-verification"
PREFIX = "v1"
MAX_TOKEN_LENGTH = 200


class TokenRefused(Exception):
    """The token is malformed, forged or altered."""


@dataclass(frozen=True, slots=True)
class TokenClaims:
    prescription_id: uuid.UUID
    generation: int
    expires_on: date


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(keys: KeyProvider, version: int, payload: str) -> str:
    key = keys.derive(KEY_PURPOSE, version)
    return _b64(hmac.new(key, f"{PREFIX}.{version}.{payload}".encode(), hashlib.sha256).digest())


def issue(keys: KeyProvider, claims: TokenClaims) -> str:
    version = keys.current_version
    raw = f"{claims.prescription_id}:{claims.generation}:{claims.expires_on.isoformat()}"
    payload = _b64(raw.encode())
    return f"{PREFIX}.{version}.{payload}.{_mac(keys, version, payload)}"


def read(keys: KeyProvider, token: str) -> TokenClaims:
    """The claims of a genuine token (expiry and generation are the caller's to check)."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise TokenRefused("too long")
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != PREFIX or not parts[1].isdigit():
        raise TokenRefused("malformed")
    version, payload, mac = int(parts[1]), parts[2], parts[3]
    if version not in keys.versions():
        raise TokenRefused("unknown key")
    if not hmac.compare_digest(_mac(keys, version, payload), mac):
        raise TokenRefused("bad signature")
    try:
        raw = _unb64(payload).decode("ascii")
        ident, generation, expires = raw.split(":")
        return TokenClaims(uuid.UUID(ident), int(generation), date.fromisoformat(expires))
    except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
        raise TokenRefused("malformed payload") from exc
