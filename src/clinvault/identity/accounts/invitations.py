"""Pending invitations for the organization administrator: list and resend.

Resending draws a new nonce, so the new link replaces the old one (which stops
working) and the invitation runs for its full time again from now.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.bootstrap import Container
from clinvault.db import after_commit
from clinvault.errors import Conflict, InvitationNotFound
from clinvault.identity import policies
from clinvault.identity.accounts.repository import AccountRepository
from clinvault.identity.invitation_service import invitation_read
from clinvault.identity.policies import require
from clinvault.identity.principal import Principal
from clinvault.identity.repository import IdentityRepository
from clinvault.identity.schemas import InvitationRead
from clinvault.identity.tokens import hash_token, invitation_token
from clinvault.identity.workflows import start_invitation_email
from clinvault.timeutil import utcnow

log = structlog.get_logger(__name__)

PENDING_LIMIT = 200


class PendingInvitations:
    def __init__(self, session: AsyncSession, container: Container) -> None:
        self.session = session
        self.container = container
        self.repository = AccountRepository(session)
        self.identity = IdentityRepository(session)

    async def list_pending(self, principal: Principal) -> list[InvitationRead]:
        """Invitations of the organization neither accepted, revoked nor expired; newest first."""
        context.describe_resource("invitation")
        require(
            policies.can_manage_invitations(principal, principal.organization_id),
            "Only an organization administrator can see invitations.",
        )
        rows = await self.repository.pending_invitations(
            tenant=principal.organization_id, now=utcnow(), limit=PENDING_LIMIT
        )
        return [invitation_read(row) for row in rows]

    async def resend(self, principal: Principal, invitation_id: uuid.UUID) -> InvitationRead:
        """Send a new link (the old one stops working), valid for the full time from now."""
        context.describe_resource("invitation", invitation_id)
        # The tenant-scoped lookup answers first: another tenant's invitation is a 404.
        invitation = await self.identity.invitation(invitation_id, tenant=principal.organization_id)
        if invitation is None:
            raise InvitationNotFound("No invitation with this id in your organization.")
        require(
            policies.can_manage_invitations(principal, principal.organization_id),
            "Only an organization administrator can resend invitations.",
        )
        if invitation.accepted_at is not None or invitation.revoked_at is not None:
            raise Conflict(
                "This invitation was already accepted or withdrawn: invite the person again "
                "if they still need an account."
            )
        now = utcnow()
        invitation.token_nonce = secrets.token_urlsafe(24)
        invitation.token_key_version = self.container.keys.current_version
        invitation.expires_at = now + timedelta(
            hours=self.container.settings.security.invitation_hours
        )
        invitation.token_hash = hash_token(
            invitation_token(
                self.container.keys,
                invitation.id,
                invitation.token_nonce,
                invitation.token_key_version,
            )
        )
        await self.session.flush()
        resend = invitation.token_nonce[:16]
        after_commit(self.session, lambda: start_invitation_email(invitation_id, resend))
        log.info("identity.invitation.resent", invitation_id=str(invitation_id))
        return invitation_read(invitation)
