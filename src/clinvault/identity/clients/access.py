"""A client access token presented on a request: still live, and within its scopes.

Checked on every request: a revoked client, a deactivated organization or a
rotated secret (the token names the secret version it was issued under) ends
the token at once. The principal is bound before the scope check, so a refusal
is audited with the client as its actor.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.bootstrap import Container
from clinvault.errors import TokenInvalid
from clinvault.errors.api_clients import ApiClientScopeDenied
from clinvault.identity.clients.repository import ApiClientRepository
from clinvault.identity.clients.scopes import admits
from clinvault.identity.principal import CLIENT, Principal
from clinvault.identity.tokens import TokenIssuer

AUTH_METHOD = "client_credentials"
ENDED_DETAIL = (
    "This API client was revoked, or its secret rotated, after the token was issued: "
    "get a new token with POST /api/auth/token using the current secret."
)


def client_principal(client_id: Any, organization_id: Any, scopes: frozenset[str]) -> Principal:
    return Principal(
        user_id=client_id,
        organization_id=organization_id,
        roles=frozenset(),
        auth_method=AUTH_METHOD,
        kind=CLIENT,
        scopes=scopes,
    )


async def authenticate_client(
    container: Container,
    session: AsyncSession,
    token: str,
    header: dict[str, Any],
    action: str | None,
) -> Principal:
    claims = TokenIssuer(container.keys, container.settings.security).verify_client(
        token, header=header
    )
    client = await ApiClientRepository(session).live(
        claims.client_id, tenant=claims.organization_id
    )
    if client is None or client.secret_version != claims.secret_version:
        raise TokenInvalid(ENDED_DETAIL)
    principal = client_principal(
        client.id, client.organization_id, frozenset(claims.scopes) & frozenset(client.scopes)
    )
    context.bind_principal(principal)
    if not admits(principal.scopes, action):
        context.note_detail("client_scope")
        raise ApiClientScopeDenied(
            "API clients may call only the routes of their scopes, and this route is in "
            f"none of them ({', '.join(sorted(principal.scopes)) or 'no scope'}): use a "
            "user account for it."
        )
    return principal
