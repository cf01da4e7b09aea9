"""Bearer tokens from external OpenID Connect issuers, verified against their JWKS.

Only asymmetric algorithms are accepted (an HMAC "signature" keyed with a
public key proves nothing). Key sets are cached per URL; a token naming an
unknown key id triggers one refetch, at most once per cooldown period, so a
stream of forged key ids cannot turn into a stream of requests to the issuer.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import structlog

from clinvault.config import OidcIssuer
from clinvault.errors import IdentityProviderUnavailable, TokenExpired, TokenInvalid

log = structlog.get_logger(__name__)

ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
JWKS_TTL_SECONDS = 600.0
REFETCH_COOLDOWN_SECONDS = 10.0
FETCH_TIMEOUT_SECONDS = 5.0
MAX_JWKS_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class ExternalIdentity:
    issuer: str
    subject: str
    email: str


@dataclass
class _Entry:
    keys: dict[str, jwt.PyJWK]
    fetched_at: float


class JwksCache:
    def __init__(
        self,
        ttl_seconds: float = JWKS_TTL_SECONDS,
        cooldown_seconds: float = REFETCH_COOLDOWN_SECONDS,
    ) -> None:
        self._ttl = ttl_seconds
        self._cooldown = cooldown_seconds
        self._entries: dict[str, _Entry] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def clear(self) -> None:
        self._entries.clear()

    async def key(self, url: str, kid: str | None) -> jwt.PyJWK:
        entry = self._entries.get(url)
        now = time.monotonic()
        if entry is None or now - entry.fetched_at > self._ttl:
            entry = await self._refresh(url, entry)
        found = _pick(entry.keys, kid)
        if found is None and time.monotonic() - entry.fetched_at > self._cooldown:
            entry = await self._refresh(url, entry)
            found = _pick(entry.keys, kid)
        if found is None:
            raise TokenInvalid(
                "The token is signed with a key its issuer does not publish: obtain a new "
                "token from your identity provider."
            )
        return found

    async def _refresh(self, url: str, seen: _Entry | None) -> _Entry:
        lock = self._locks.setdefault(url, asyncio.Lock())
        async with lock:
            current = self._entries.get(url)
            if current is not None and current is not seen:
                return current
            keys = await _fetch(url)
            entry = self._entries[url] = _Entry(keys=keys, fetched_at=time.monotonic())
            log.info("identity.oidc.jwks_fetched", url=url, keys=len(keys))
            return entry


def _pick(keys: dict[str, jwt.PyJWK], kid: str | None) -> jwt.PyJWK | None:
    if kid is not None:
        return keys.get(kid)
    return next(iter(keys.values())) if len(keys) == 1 else None


async def _fetch(url: str) -> dict[str, jwt.PyJWK]:
    unavailable = IdentityProviderUnavailable(
        "The identity provider's signing keys cannot be fetched right now: try again in a "
        "minute, or sign in with your clinvault password."
    )
    try:
        async with httpx.AsyncClient(timeout=FETCH_TIMEOUT_SECONDS) as http:
            response = await http.get(url, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        log.warning("identity.oidc.jwks_unreachable", url=url, error=type(exc).__name__)
        raise unavailable from None
    if response.status_code != 200 or len(response.content) > MAX_JWKS_BYTES:
        log.warning("identity.oidc.jwks_refused", url=url, status=response.status_code)
        raise unavailable
    try:
        document = response.json()
        entries = document["keys"]
        if not isinstance(entries, list):
            raise TypeError("keys")
    except (ValueError, KeyError, TypeError):
        log.warning("identity.oidc.jwks_malformed", url=url)
        raise unavailable from None
    keys: dict[str, jwt.PyJWK] = {}
    for index, data in enumerate(entries):
        if not isinstance(data, dict) or data.get("use", "sig") != "sig":
            continue
        try:
            jwk = jwt.PyJWK(data)
        except jwt.PyJWTError:
            continue
        keys[str(data.get("kid", f"#{index}"))] = jwk
    return keys


JWKS_CACHE = JwksCache()


def issuer_for(issuers: list[OidcIssuer], claimed: object) -> OidcIssuer | None:
    if not isinstance(claimed, str):
        return None
    for issuer in issuers:
        if issuer.issuer == claimed:
            return issuer
    return None


def _verified_email(issuer: OidcIssuer, claims: dict[str, Any]) -> str:
    email = claims.get(issuer.email_claim)
    if not isinstance(email, str) or "@" not in email:
        raise TokenInvalid(
            f"The identity token carries no '{issuer.email_claim}' claim: ask your identity "
            "provider administrator to include it."
        )
    if issuer.require_verified_email:
        verified = claims.get("email_verified")
        if verified is not True and verified != "true":
            raise TokenInvalid(
                "Your email address is not verified at your identity provider: verify it "
                "there, then sign in again."
            )
    return email.strip().lower()


async def verify_external_token(
    issuer: OidcIssuer, token: str, cache: JwksCache = JWKS_CACHE
) -> ExternalIdentity:
    """Check signature, algorithm, expiry, issuer and audience; return the identity."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise TokenInvalid("The bearer token is not a well-formed JWT.") from None
    algorithm = header.get("alg")
    allowed = ASYMMETRIC_ALGORITHMS.intersection(issuer.algorithms)
    if algorithm not in allowed:
        raise TokenInvalid(
            f"Tokens signed with {algorithm!r} are not accepted from this issuer; "
            f"accepted: {', '.join(sorted(allowed))}."
        )
    kid = header.get("kid")
    jwk = await cache.key(issuer.jwks_url, kid if isinstance(kid, str) else None)
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            jwk.key,
            algorithms=[algorithm],
            issuer=issuer.issuer,
            audience=issuer.audience,
            options={"require": ["exp", "iss", "sub"], "verify_aud": issuer.audience is not None},
        )
    except jwt.ExpiredSignatureError:
        raise TokenExpired(
            "The identity provider token has expired: obtain a new one and try again."
        ) from None
    except jwt.InvalidAudienceError:
        raise TokenInvalid(
            "The token was issued for another application (audience): request a token for "
            "clinvault from your identity provider."
        ) from None
    except jwt.PyJWTError:
        raise TokenInvalid(
            "The identity token could not be verified: obtain a new one from your identity "
            "provider."
        ) from None
    return ExternalIdentity(
        issuer=issuer.issuer, subject=str(claims["sub"]), email=_verified_email(issuer, claims)
    )
