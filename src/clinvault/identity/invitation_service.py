"""Invitations: an organization administrator invites a member by email.

The link token is HMAC(token key, id + random nonce), so only its SHA-256 is
stored and the mail workflow recomputes it from the row. Acceptance is single
use: the row is claimed with a conditional update before the user is created.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.bootstrap import Container
from clinvault.db import after_commit
from clinvault.errors import (
    Conflict,
    EmailUnavailable,
    InvitationExpired,
    InvitationNotFound,
    InvitationRevoked,
    InvitationUsed,
    RoleNotAllowed,
)
from clinvault.identity import policies
from clinvault.identity.admin_service import create_user, normalize_email, user_read
from clinvault.identity.policies import require
from clinvault.identity.principal import Principal, Role
from clinvault.identity.repository import IdentityRepository
from clinvault.identity.roles import require_roles_fit
from clinvault.identity.schemas import (
    InvitationCreate,
    InvitationPreview,
    InvitationRead,
    UserRead,
)
from clinvault.identity.tokens import hash_token, invitation_token
from clinvault.identity.workflows import start_invitation_email
from clinvault.ids import uuid7
from clinvault.models.identity import Invitation, Organization
from clinvault.timeutil import utcnow

log = structlog.get_logger(__name__)

_TOKEN_MAX = 128


def invitation_read(invitation: Invitation) -> InvitationRead:
    return InvitationRead(
        id=invitation.id,
        email=invitation.email,
        roles=list(invitation.roles),
        expires_at=invitation.expires_at,
    )


def _refuse_if_closed(invitation: Invitation, organization: Organization, now: datetime) -> None:
    if invitation.revoked_at is not None or not organization.is_active:
        raise InvitationRevoked(
            "This invitation was withdrawn: ask your organization administrator for a new one."
        )
    if invitation.accepted_at is not None:
        raise InvitationUsed(
            "This invitation was already used: sign in with the account it created."
        )
    if invitation.expires_at <= now:
        raise InvitationExpired(
            f"This invitation expired on {invitation.expires_at:%Y-%m-%d %H:%M} UTC: ask your "
            "organization administrator to send a new one."
        )


class InvitationService:
    def __init__(self, session: AsyncSession, container: Container) -> None:
        self.session = session
        self.container = container
        self.repository = IdentityRepository(session)

    async def create(self, principal: Principal, data: InvitationCreate) -> InvitationRead:
        context.describe_resource("invitation")
        require(
            policies.can_manage_invitations(principal, principal.organization_id),
            "Only an organization administrator can invite members.",
        )
        roles = list(dict.fromkeys(data.roles))
        if not policies.can_grant_roles(principal, roles):
            raise RoleNotAllowed(
                "Invitations grant organization roles only: choose from GET /api/users/roles "
                "(the admin role is not one of them)."
            )
        organization = await self.repository.organization(
            principal.organization_id, tenant=principal.organization_id
        )
        require_roles_fit(roles, organization.kind if organization is not None else "")
        email = normalize_email(data.email)
        if await self.repository.email_in_tenant(email, tenant=principal.organization_id):
            raise EmailUnavailable("This person already has an account in your organization.")
        now = utcnow()
        key_version = self.container.keys.current_version
        invitation = Invitation(
            id=uuid7(),
            organization_id=principal.organization_id,
            email=email,
            roles=[role.value for role in roles],
            token_nonce=secrets.token_urlsafe(24),
            token_key_version=key_version,
            invited_by=principal.user_id,
            expires_at=now + timedelta(hours=self.container.settings.security.invitation_hours),
        )
        invitation.token_hash = hash_token(self._token(invitation))
        await self.repository.add(invitation)
        context.describe_resource("invitation", invitation.id)
        invitation_id = invitation.id
        after_commit(self.session, lambda: start_invitation_email(invitation_id))
        log.info("identity.invitation.created", invitation_id=str(invitation.id))
        return invitation_read(invitation)

    async def lookup(self, token: str) -> InvitationPreview:
        """What an invitation link offers, for the person holding the link."""
        invitation, organization = await self._open(token)
        return InvitationPreview(
            organization_name=organization.name,
            email=invitation.email,
            roles=list(invitation.roles),
            expires_at=invitation.expires_at,
        )

    async def accept(self, token: str, password: str, display_name: str) -> UserRead:
        """Create the invited account with its password; the link then stops working."""
        invitation, organization = await self._open(token)
        require_roles_fit(invitation.roles, organization.kind)
        if not await self.repository.mark_invitation_accepted(invitation.id, now=utcnow()):
            raise InvitationUsed(
                "This invitation was already used: sign in with the account it created."
            )
        user = await create_user(
            self.session,
            self.container.settings,
            organization_id=organization.id,
            email=invitation.email,
            password=password,
            roles=[Role(role) for role in invitation.roles],
            display_name=display_name,
        )
        context.note_actor(user.id, organization.id)
        context.describe_resource("user", user.id)
        log.info("identity.invitation.accepted", invitation_id=str(invitation.id))
        return user_read(user, organization.name)

    async def revoke(self, principal: Principal, invitation_id: uuid.UUID) -> None:
        context.describe_resource("invitation", invitation_id)
        # The tenant-scoped lookup answers first: another tenant's invitation is a 404.
        invitation = await self.repository.invitation(
            invitation_id, tenant=principal.organization_id
        )
        if invitation is None:
            raise InvitationNotFound("No invitation with this id in your organization.")
        require(
            policies.can_manage_invitations(principal, principal.organization_id),
            "Only an organization administrator can withdraw invitations.",
        )
        if invitation.accepted_at is not None:
            raise Conflict(
                "This invitation was already accepted: deactivate the user instead "
                "(PATCH /api/users/{id} with is_active false)."
            )
        if invitation.revoked_at is None:
            invitation.revoked_at = utcnow()
            await self.session.flush()

    def _token(self, invitation: Invitation) -> str:
        return invitation_token(
            self.container.keys,
            invitation.id,
            invitation.token_nonce,
            invitation.token_key_version,
        )

    async def _open(self, token: str) -> tuple[Invitation, Organization]:
        context.describe_resource("invitation")
        found = None
        if 0 < len(token) <= _TOKEN_MAX:
            found = await self.repository.invitation_by_token_hash_global(hash_token(token))
        if found is None:
            raise InvitationNotFound(
                "This invitation link is not valid: check that you copied the whole link, or "
                "ask for a new invitation."
            )
        invitation, organization = found
        context.describe_resource("invitation", invitation.id)
        _refuse_if_closed(invitation, organization, utcnow())
        return invitation, organization
