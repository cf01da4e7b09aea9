"""The OAuth 2.0 client-credentials grant (RFC 6749 section 4.4).

The client authenticates with HTTP Basic or with `client_id`/`client_secret` in
the form body (section 2.3.1), never both. An unknown client, a wrong secret, a
revoked client and a suspended organization all get the same `invalid_client`
answer, so the endpoint tells nothing about which ids exist. Failures count
against the tried client id and the caller's address exactly like failed
sign-ins (identity/throttle), and lock out the same way (429).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote_plus

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.bootstrap import Container
from clinvault.errors.api_clients import ApiClientThrottled
from clinvault.errors.base import AccountLocked
from clinvault.identity.clients.access import client_principal
from clinvault.identity.clients.repository import ApiClientRepository
from clinvault.identity.clients.schemas import ClientTokenResponse
from clinvault.identity.clients.service import secret_digest
from clinvault.identity.throttle.repository import ThrottleRepository
from clinvault.identity.throttle.service import Attempt, SignInThrottle
from clinvault.identity.tokens import TokenIssuer
from clinvault.models.identity import ApiClient
from clinvault.timeutil import utcnow

log = structlog.get_logger(__name__)

GRANT_TYPE = "client_credentials"
MAX_CREDENTIAL = 200
INVALID_CLIENT = (
    "Client authentication failed: check the client id and secret (a rotated secret "
    "replaces the old one; a revoked client cannot get tokens)."
)
_NO_SUCH_DIGEST = "0" * 64


@dataclass
class OAuthRefusal(Exception):
    """An RFC 6749 section 5.2 error answer."""

    error: str
    description: str
    status: int = 400
    headers: dict[str, str] = field(default_factory=dict)


def _invalid_request(description: str) -> OAuthRefusal:
    return OAuthRefusal("invalid_request", description)


def _basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    if authorization is None:
        return None
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return None  # not client authentication (a bearer token, say): the body may hold it
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise OAuthRefusal(
            "invalid_client",
            "The Basic credentials are not base64 of 'client_id:client_secret'.",
            401,
            {"WWW-Authenticate": 'Basic realm="clinvault"'},
        ) from None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise OAuthRefusal(
            "invalid_client",
            "The Basic credentials must be 'client_id:client_secret'.",
            401,
            {"WWW-Authenticate": 'Basic realm="clinvault"'},
        )
    return unquote_plus(client_id), unquote_plus(secret)


def credentials(form: Mapping[str, str], authorization: str | None) -> tuple[str, str, bool]:
    """The presented client id and secret, and whether they came by HTTP Basic."""
    basic = _basic_credentials(authorization)
    in_body = "client_id" in form or "client_secret" in form
    if basic is not None and in_body:
        raise _invalid_request(
            "Send the client credentials once: either HTTP Basic or the form body, not both."
        )
    if basic is not None:
        return basic[0], basic[1], True
    client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
    if not client_id or not secret:
        raise OAuthRefusal(
            "invalid_client",
            "Authenticate the client: HTTP Basic with client_id:client_secret, or "
            "client_id and client_secret in the form body.",
            401,
            {"WWW-Authenticate": 'Basic realm="clinvault"'},
        )
    return client_id, secret, False


class ClientTokenGrant:
    def __init__(self, session: AsyncSession, container: Container) -> None:
        self.container = container
        self.clients = ApiClientRepository(session)
        self.throttles = ThrottleRepository(session)
        self.throttle = SignInThrottle(container)

    async def exchange(
        self, form: Mapping[str, str], authorization: str | None
    ) -> ClientTokenResponse:
        context.describe_resource("api_client")
        grant_type = form.get("grant_type")
        if not grant_type:
            raise _invalid_request("Send grant_type=client_credentials in the form body.")
        if grant_type != GRANT_TYPE:
            raise OAuthRefusal(
                "unsupported_grant_type",
                "This endpoint issues tokens to API clients only: use "
                "grant_type=client_credentials (users sign in with POST /api/auth/login).",
            )
        presented_id, secret, basic = credentials(form, authorization)
        now = utcnow()
        attempt = self.throttle.attempt("api-client:" + presented_id.strip().lower()[:100])
        await self.throttle.refuse_source(self.throttles, attempt, now)
        try:
            await self.throttle.refuse_account(self.throttles, attempt, now)
        except AccountLocked as locked:
            seconds = locked.headers.get("Retry-After", "60")
            raise ApiClientThrottled(
                "Too many failed authentications of this client id: check its secret, then "
                f"try again in {seconds} seconds.",
                headers=locked.headers,
            ) from None
        client = await self._client(presented_id)
        digest = secret_digest(secret[:MAX_CREDENTIAL])
        expected = client.secret_hash if client is not None else _NO_SUCH_DIGEST
        if (
            client is None
            or len(secret) > MAX_CREDENTIAL
            or not hmac.compare_digest(digest, expected)
        ):
            await self._refuse(attempt, client, basic)
        assert client is not None
        granted = self._scopes(form.get("scope"), client.scopes)
        await self.throttle.clear_account(self.throttles, attempt)
        context.describe_resource("api_client", client.id)
        context.bind_principal(client_principal(client.id, client.organization_id, granted))
        issuer = TokenIssuer(self.container.keys, self.container.settings.security)
        token = issuer.client_token(
            client_id=client.id,
            organization_id=client.organization_id,
            scopes=granted,
            secret_version=client.secret_version,
        )
        log.info("identity.api_client.token_issued", api_client_id=str(client.id))
        return ClientTokenResponse(
            access_token=token, expires_in=issuer.access_seconds, scope=" ".join(sorted(granted))
        )

    async def _client(self, presented_id: str) -> ApiClient | None:
        try:
            client_id = uuid.UUID(presented_id.strip())
        except ValueError:
            return None
        return await self.clients.presenting_global(client_id)

    async def _refuse(self, attempt: Attempt, client: ApiClient | None, basic: bool) -> None:
        if client is not None:
            context.note_actor(client.id, client.organization_id)
        context.note_detail("client_credentials_invalid")
        await self.throttle.record_failure(attempt, utcnow())
        headers = {"WWW-Authenticate": 'Basic realm="clinvault"'} if basic else {}
        raise OAuthRefusal("invalid_client", INVALID_CLIENT, 401, headers)

    @staticmethod
    def _scopes(requested: str | None, held: list[str]) -> frozenset[str]:
        if requested is None or not requested.strip():
            return frozenset(held)
        asked = frozenset(requested.split())
        if not asked <= frozenset(held):
            raise OAuthRefusal(
                "invalid_scope",
                f"This client holds the scopes '{' '.join(sorted(held))}': ask for those "
                "or fewer (or leave scope out to get all of them).",
            )
        return asked
