"""External identity tokens: algorithm allow-list, audience, expiry, email claims."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from clinvault.config import OidcIssuer
from clinvault.errors import TokenExpired, TokenInvalid
from clinvault.identity.oidc import JwksCache, issuer_for, verify_external_token

ISSUER = OidcIssuer(
    issuer="https://idp.example.org/realms/care",
    jwks_url="https://idp.example.org/jwks",
    audience="clinvault",
)
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


class StaticJwks(JwksCache):
    """The issuer's published keys, without a network."""

    def __init__(self, keys: dict[str, Any]) -> None:
        super().__init__()
        self.keys = {kid: jwt.PyJWK(data) for kid, data in keys.items()}

    async def key(self, url: str, kid: str | None) -> jwt.PyJWK:
        if kid not in self.keys:
            raise TokenInvalid("unknown key")
        return self.keys[kid]


def public_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    data: dict[str, Any] = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**data, "kid": kid, "alg": "RS256", "use": "sig"}


CACHE = StaticJwks({"k1": public_jwk(KEY, "k1")})


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    values: dict[str, Any] = {
        "iss": ISSUER.issuer,
        "aud": "clinvault",
        "sub": "abc-123",
        "email": "Ada@Example.org",
        "email_verified": True,
        "iat": now,
        "exp": now + 300,
    }
    values.update(overrides)
    return values


def sign(payload: dict[str, Any], key: rsa.RSAPrivateKey = KEY, kid: str = "k1") -> str:
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})


async def test_a_valid_token_yields_the_lowercased_email() -> None:
    identity = await verify_external_token(ISSUER, sign(claims()), CACHE)
    assert identity.email == "ada@example.org"
    assert identity.subject == "abc-123"


@pytest.mark.parametrize(
    ("overrides", "kid", "key"),
    [
        ({"aud": "another-app"}, "k1", KEY),
        ({"iss": "https://evil.example.org"}, "k1", KEY),
        ({"email_verified": False}, "k1", KEY),
        ({"email": None}, "k1", KEY),
        ({}, "k1", OTHER_KEY),
        ({}, "k9", KEY),
    ],
    ids=["audience", "issuer", "unverified-email", "no-email", "wrong-key", "unknown-kid"],
)
async def test_untrustworthy_tokens_are_token_invalid(
    overrides: dict[str, Any], kid: str, key: rsa.RSAPrivateKey
) -> None:
    # Claims are built when the test runs: built at collection they could expire first.
    with pytest.raises(TokenInvalid):
        await verify_external_token(ISSUER, sign(claims(**overrides), key, kid), CACHE)


async def test_expired_tokens_are_token_expired() -> None:
    past = int(time.time()) - 600
    with pytest.raises(TokenExpired):
        await verify_external_token(ISSUER, sign(claims(iat=past, exp=past + 60)), CACHE)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def test_symmetric_algorithms_are_refused_even_with_the_public_key() -> None:
    public_pem = KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = b64(json.dumps({"alg": "HS256", "kid": "k1", "typ": "JWT"}).encode())
    body = b64(json.dumps(claims()).encode())
    mac = hmac.new(public_pem, f"{header}.{body}".encode(), hashlib.sha256).digest()
    forged = f"{header}.{body}.{b64(mac)}"
    with pytest.raises(TokenInvalid, match="not accepted"):
        await verify_external_token(ISSUER, forged, CACHE)


async def test_unverified_email_is_accepted_when_not_required() -> None:
    lenient = ISSUER.model_copy(update={"require_verified_email": False})
    identity = await verify_external_token(lenient, sign(claims(email_verified=False)), CACHE)
    assert identity.email == "ada@example.org"


def test_issuers_match_exactly() -> None:
    assert issuer_for([ISSUER], ISSUER.issuer) is ISSUER
    assert issuer_for([ISSUER], ISSUER.issuer + "/") is None
    assert issuer_for([ISSUER], None) is None
