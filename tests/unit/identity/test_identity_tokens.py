"""Access and challenge tokens: claims, expiry, tampering and key versions."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta

import jwt
import pytest

from clinvault.config import SecurityPolicy
from clinvault.crypto.errors import KeyVersionUnknown
from clinvault.errors import TokenExpired, TokenInvalid
from clinvault.identity import tokens
from clinvault.identity.tokens import TokenIssuer


class FakeKeys:
    """Versioned purpose keys, enough for token signing."""

    def __init__(self) -> None:
        self.current_version = 1
        self._known = {1}

    def rotate_sync(self) -> None:
        self.current_version += 1
        self._known.add(self.current_version)

    def derive(self, purpose: str, version: int | None = None) -> bytes:
        version = self.current_version if version is None else version
        if version not in self._known:
            raise KeyVersionUnknown(f"no key version {version}")
        return hashlib.sha256(f"{purpose}/{version}".encode()).digest()


def issuer(keys: FakeKeys | None = None) -> TokenIssuer:
    return TokenIssuer(keys or FakeKeys(), SecurityPolicy())  # type: ignore[arg-type]


def access(token_issuer: TokenIssuer, session_id: uuid.UUID | None = None) -> str:
    return token_issuer.access_token(
        user_id=uuid.uuid4(),
        organization_id=uuid.uuid4(),
        roles=["nurse", "clerk"],
        session_id=session_id or uuid.uuid4(),
    )


def test_access_token_carries_the_documented_claims() -> None:
    signer = issuer()
    session_id = uuid.uuid4()
    token = access(signer, session_id)
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "HS256"
    assert header["kid"] == "1"
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"] == "clinvault"
    assert claims["typ"] == "access"
    assert claims["roles"] == ["clerk", "nurse"]
    assert claims["exp"] - claims["iat"] == 15 * 60
    assert {"sub", "org", "sid", "jti"} <= claims.keys()
    verified = signer.verify_access(token)
    assert verified.session_id == session_id
    assert verified.roles == ("clerk", "nurse")


def test_tokens_from_an_older_key_version_still_verify() -> None:
    keys = FakeKeys()
    signer = issuer(keys)
    old = access(signer)
    keys.rotate_sync()
    new = access(signer)
    assert jwt.get_unverified_header(new)["kid"] == "2"
    signer.verify_access(old)
    signer.verify_access(new)


def resign(claims: dict[str, object], key: bytes, kid: str = "1") -> str:
    return jwt.encode(claims, key, algorithm="HS256", headers={"kid": kid})


def test_expired_token_is_token_expired() -> None:
    keys = FakeKeys()
    signer = issuer(keys)
    claims = jwt.decode(access(signer), options={"verify_signature": False})
    claims["exp"] = claims["iat"] - 1
    with pytest.raises(TokenExpired):
        signer.verify_access(resign(claims, keys.derive("token", 1)))


@pytest.mark.parametrize(
    "change",
    [
        {"iss": "someone-else"},
        {"typ": "mfa"},
        {"roles": "admin"},
        {"sub": "not-a-uuid"},
    ],
)
def test_wrong_claims_are_token_invalid(change: dict[str, object]) -> None:
    keys = FakeKeys()
    signer = issuer(keys)
    claims = jwt.decode(access(signer), options={"verify_signature": False})
    claims.update(change)
    with pytest.raises(TokenInvalid):
        signer.verify_access(resign(claims, keys.derive("token", 1)))


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_tampered_signature_unknown_kid_and_other_algorithms_are_refused() -> None:
    keys = FakeKeys()
    signer = issuer(keys)
    token = access(signer)
    head, body, signature = token.split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    with pytest.raises(TokenInvalid):
        signer.verify_access(f"{head}.{body}.{flipped}")
    claims = jwt.decode(token, options={"verify_signature": False})
    with pytest.raises(TokenInvalid):
        signer.verify_access(resign(claims, keys.derive("token", 1), kid="9"))
    with pytest.raises(TokenInvalid):
        signer.verify_access(jwt.encode(claims, keys.derive("token", 1), algorithm="HS512"))
    with pytest.raises(TokenInvalid):
        signer.verify_access(jwt.encode(claims, "", algorithm="none"))
    with pytest.raises(TokenInvalid):
        tokens.unverified_claims("not a jwt")


def test_mfa_and_access_tokens_are_not_interchangeable() -> None:
    signer = issuer()
    user_id, org_id = uuid.uuid4(), uuid.uuid4()
    challenge = signer.mfa_token(user_id=user_id, organization_id=org_id)
    assert signer.verify_mfa(challenge).user_id == user_id
    with pytest.raises(TokenInvalid):
        signer.verify_access(challenge)
    with pytest.raises(TokenInvalid):
        signer.verify_mfa(access(signer))
    claims = jwt.decode(challenge, options={"verify_signature": False})
    assert timedelta(seconds=claims["exp"] - claims["iat"]) == timedelta(minutes=5)


def test_refresh_tokens_are_random_and_stored_as_digests() -> None:
    raw, digest = tokens.new_refresh_token()
    assert len(raw) >= 43
    assert digest == hashlib.sha256(raw.encode()).hexdigest()
    assert tokens.new_refresh_token()[0] != raw


def test_invitation_tokens_are_deterministic_per_row() -> None:
    keys = FakeKeys()
    invitation_id = uuid.uuid4()
    first = tokens.invitation_token(keys, invitation_id, "nonce-a", 1)  # type: ignore[arg-type]
    assert first == tokens.invitation_token(keys, invitation_id, "nonce-a", 1)  # type: ignore[arg-type]
    assert first != tokens.invitation_token(keys, invitation_id, "nonce-b", 1)  # type: ignore[arg-type]
    assert "=" not in first
    assert len(first) == 43
