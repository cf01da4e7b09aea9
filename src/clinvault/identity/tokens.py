"""Signed access and sign-in challenge tokens; opaque refresh tokens.

Access tokens are HS256 JWTs under the "token" purpose key; the header `kid`
names the key version, so tokens signed before a rotation keep verifying
until they expire. Refresh tokens are random strings of which only the
SHA-256 digest is stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from clinvault.config import SecurityPolicy
from clinvault.crypto.errors import CryptoError
from clinvault.crypto.ports import KeyProvider
from clinvault.errors import TokenExpired, TokenInvalid
from clinvault.timeutil import utcnow

ISSUER = "clinvault"
ALGORITHM = "HS256"
KEY_PURPOSE = "token"
ACCESS = "access"
MFA = "mfa"
CLIENT = "client_access"
"""An API client's access token: another `typ`, so it never verifies as a user's."""

_EXPIRED_DETAIL = {
    ACCESS: "The access token has expired: get a new one with POST /api/auth/refresh "
    "or sign in again.",
    MFA: "The sign-in challenge has expired: sign in again with your email and password.",
    CLIENT: "The client access token has expired: get a new one with POST /api/auth/token.",
}
_INVALID_DETAIL = {
    ACCESS: "The access token is not valid: sign in again with POST /api/auth/login.",
    MFA: "The sign-in challenge is not valid: sign in again with your email and password.",
    CLIENT: "The client access token is not valid: get a new one with POST /api/auth/token.",
}


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: uuid.UUID
    organization_id: uuid.UUID
    roles: tuple[str, ...]
    session_id: uuid.UUID
    token_id: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ClientClaims:
    client_id: uuid.UUID
    organization_id: uuid.UUID
    scopes: tuple[str, ...]
    secret_version: int


@dataclass(frozen=True, slots=True)
class MfaClaims:
    user_id: uuid.UUID
    organization_id: uuid.UUID


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def new_refresh_token() -> tuple[str, str]:
    """A fresh opaque refresh token and the digest to store."""
    raw = secrets.token_urlsafe(32)
    return raw, hash_token(raw)


def unverified_header(token: str) -> dict[str, Any]:
    """The JOSE header without any check: only to pick the verifier and its key."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise TokenInvalid(
            "The bearer token is not a well-formed JWT: send the access_token from "
            "POST /api/auth/login."
        ) from None
    return header


def is_clinvault_signed(header: dict[str, Any]) -> bool:
    """Only clinvault signs with a shared secret; identity providers must sign with
    asymmetric keys (oidc.py refuses anything else)."""
    return header.get("alg") == ALGORITHM


def unverified_claims(token: str) -> dict[str, Any]:
    """The claims without any check: only to route a token to the right verifier."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise TokenInvalid(
            "The bearer token is not a well-formed JWT: send the access_token from "
            "POST /api/auth/login."
        ) from None
    if not isinstance(claims, dict):
        raise TokenInvalid("The bearer token carries no claims: sign in again.")
    return claims


class TokenIssuer:
    def __init__(self, keys: KeyProvider, policy: SecurityPolicy) -> None:
        self._keys = keys
        self._policy = policy

    @property
    def access_seconds(self) -> int:
        return self._policy.access_token_minutes * 60

    def access_token(
        self,
        *,
        user_id: uuid.UUID,
        organization_id: uuid.UUID,
        roles: Iterable[str],
        session_id: uuid.UUID,
    ) -> str:
        return self._sign(
            ACCESS,
            timedelta(seconds=self.access_seconds),
            {
                "sub": str(user_id),
                "org": str(organization_id),
                "roles": sorted(roles),
                "sid": str(session_id),
            },
        )

    def client_token(
        self,
        *,
        client_id: uuid.UUID,
        organization_id: uuid.UUID,
        scopes: Iterable[str],
        secret_version: int,
    ) -> str:
        return self._sign(
            CLIENT,
            timedelta(seconds=self.access_seconds),
            {
                "sub": str(client_id),
                "org": str(organization_id),
                "scope": " ".join(sorted(scopes)),
                "ver": secret_version,
            },
        )

    def verify_client(self, token: str, *, header: dict[str, Any] | None = None) -> ClientClaims:
        claims = self._verify(token, CLIENT, ("org", "scope", "ver"), header)
        try:
            scope, version = claims["scope"], claims["ver"]
            if not isinstance(scope, str) or not isinstance(version, int):
                raise ValueError("scope")
            return ClientClaims(
                client_id=uuid.UUID(str(claims["sub"])),
                organization_id=uuid.UUID(str(claims["org"])),
                scopes=tuple(scope.split()),
                secret_version=version,
            )
        except (ValueError, TypeError):
            raise TokenInvalid(_INVALID_DETAIL[CLIENT]) from None

    def mfa_token(self, *, user_id: uuid.UUID, organization_id: uuid.UUID) -> str:
        return self._sign(
            MFA,
            timedelta(minutes=self._policy.mfa_challenge_minutes),
            {"sub": str(user_id), "org": str(organization_id), "amr": ["pwd"]},
        )

    def verify_access(self, token: str, *, header: dict[str, Any] | None = None) -> AccessClaims:
        """The checked claims of an access token; `header`, if the caller has already
        parsed it, saves parsing it again (it is still verified with the signature)."""
        claims = self._verify(token, ACCESS, ("org", "sid", "roles"), header)
        try:
            roles = claims["roles"]
            if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
                raise ValueError("roles")
            return AccessClaims(
                user_id=uuid.UUID(str(claims["sub"])),
                organization_id=uuid.UUID(str(claims["org"])),
                roles=tuple(roles),
                session_id=uuid.UUID(str(claims["sid"])),
                token_id=str(claims["jti"]),
                expires_at=datetime.fromtimestamp(int(claims["exp"]), tz=UTC),
            )
        except (ValueError, TypeError):
            raise TokenInvalid(_INVALID_DETAIL[ACCESS]) from None

    def verify_mfa(self, token: str) -> MfaClaims:
        claims = self._verify(token, MFA, ("org",))
        try:
            return MfaClaims(
                user_id=uuid.UUID(str(claims["sub"])),
                organization_id=uuid.UUID(str(claims["org"])),
            )
        except (ValueError, TypeError):
            raise TokenInvalid(_INVALID_DETAIL[MFA]) from None

    def _sign(self, typ: str, lifetime: timedelta, claims: dict[str, Any]) -> str:
        version = self._keys.current_version
        now = utcnow()
        payload = {
            **claims,
            "iss": ISSUER,
            "typ": typ,
            "jti": secrets.token_urlsafe(16),
            "iat": int(now.timestamp()),
            "exp": int((now + lifetime).timestamp()),
        }
        key = self._keys.derive(KEY_PURPOSE, version)
        return jwt.encode(payload, key, algorithm=ALGORITHM, headers={"kid": str(version)})

    def _verify(
        self,
        token: str,
        typ: str,
        required: tuple[str, ...],
        header: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        invalid = _INVALID_DETAIL[typ]
        try:
            kid = (header if header is not None else jwt.get_unverified_header(token)).get("kid")
            if not isinstance(kid, str) or not kid.isdigit():
                raise TokenInvalid(invalid)
            key = self._keys.derive(KEY_PURPOSE, int(kid))
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": ["exp", "iat", "iss", "sub", "jti", "typ", *required]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenExpired(_EXPIRED_DETAIL[typ]) from None
        except (jwt.PyJWTError, CryptoError, ValueError):
            raise TokenInvalid(invalid) from None
        if claims.get("typ") != typ:
            raise TokenInvalid(invalid)
        return claims


def invitation_token(
    keys: KeyProvider, invitation_id: uuid.UUID, nonce: str, key_version: int
) -> str:
    """The link token of an invitation: recomputable from its row, never stored."""
    key = keys.derive(KEY_PURPOSE, key_version)
    mac = hmac.new(key, f"invitation:{invitation_id}:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")
