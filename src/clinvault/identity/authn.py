"""Bearer authentication: a clinvault access token (a user's, or an API client's) or a
configured OIDC issuer's token.

An API client's token is accepted only where `action` (the route's audit name)
belongs to one of its scopes: callers that pass no action (the portal, the
metrics scrape) refuse every client, so clients are denied by default.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.bootstrap import Container
from clinvault.errors import TokenInvalid
from clinvault.errors.accounts import PasswordChangeRequired
from clinvault.identity.clients.access import authenticate_client
from clinvault.identity.oidc import issuer_for, verify_external_token
from clinvault.identity.principal import Principal, Role
from clinvault.identity.repository import IdentityRepository
from clinvault.identity.tokens import (
    CLIENT,
    TokenIssuer,
    is_clinvault_signed,
    unverified_claims,
    unverified_header,
)
from clinvault.models.identity import Organization, User

PLATFORM_KIND = "platform"
CHANGE_ACTIONS = frozenset({"auth.profile", "auth.logout", "auth.password.change"})
"""The API routes an account that must choose its own password may still call."""
_KNOWN_ROLES = {role.value: role for role in Role}


def effective_roles(roles: Iterable[str], organization_kind: str) -> frozenset[Role]:
    """The stored roles this tenant can hold; `admin` only counts in the platform tenant."""
    granted = {_KNOWN_ROLES[name] for name in roles if name in _KNOWN_ROLES}
    if organization_kind != PLATFORM_KIND:
        granted.discard(Role.ADMIN)
    return frozenset(granted)


def principal_for(
    user: User,
    organization: Organization,
    *,
    session_id: uuid.UUID | None = None,
    auth_method: str = "password",
) -> Principal:
    return Principal(
        user_id=user.id,
        organization_id=organization.id,
        roles=effective_roles(user.roles, organization.kind),
        session_id=session_id,
        auth_method=auth_method,
    )


async def authenticate_bearer(
    container: Container,
    session: AsyncSession,
    token: str,
    *,
    action: str | None = None,
    password_change_due_ok: bool = False,
) -> Principal:
    """The caller of `token`. An account that must choose its own password is refused
    (403) unless `password_change_due_ok`: the routes of the password change and the
    portal, which sends such a user to its "Choose your password" page."""
    header = unverified_header(token)
    repository = IdentityRepository(session)
    if is_clinvault_signed(header):
        if unverified_claims(token).get("typ") == CLIENT:
            return await authenticate_client(container, session, token, header, action)
        issuer = TokenIssuer(container.keys, container.settings.security)
        access = issuer.verify_access(token, header=header)
        grants = await repository.active_session_grants(
            access.user_id, access.organization_id, access.session_id
        )
        if grants is None:
            raise TokenInvalid(
                "This session has ended (signed out, revoked, or the account was disabled): "
                "sign in again."
            )
        roles, organization_kind, password_change_due = grants
        if password_change_due and not (password_change_due_ok or action in CHANGE_ACTIONS):
            raise PasswordChangeRequired(
                "Choose your own password first: POST /api/auth/change-password with the "
                "password you were given as current_password, then sign in again."
            )
        return Principal(
            user_id=access.user_id,
            organization_id=access.organization_id,
            roles=effective_roles(roles, organization_kind),
            session_id=access.session_id,
            password_change_due=password_change_due,
        )
    claims = unverified_claims(token)
    external = issuer_for(container.settings.oidc_issuers, claims.get("iss"))
    if external is None:
        raise TokenInvalid(
            "Tokens from this issuer are not accepted: sign in with POST /api/auth/login or "
            "with a configured identity provider."
        )
    identity = await verify_external_token(external, token)
    row = await repository.active_user_by_email_global(identity.email)
    if row is None:
        raise TokenInvalid(
            "No active clinvault account matches this identity: ask your organization "
            "administrator for an invitation."
        )
    return principal_for(row[0], row[1], auth_method="oidc")
