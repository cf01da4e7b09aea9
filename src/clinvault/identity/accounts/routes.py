"""HTTP routes of password reset and of pending invitations."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from clinvault.api_contract import problem_responses
from clinvault.deps import ContainerDep, PrincipalDep, SessionDep
from clinvault.identity.accounts.invitations import PendingInvitations
from clinvault.identity.accounts.schemas import (
    RESET_ACCEPTED,
    PasswordResetAccepted,
    PasswordResetConfirm,
    PasswordResetRequest,
)
from clinvault.identity.accounts.service import PasswordResetService
from clinvault.identity.schemas import InvitationRead

resets = APIRouter(prefix="/api/auth", tags=["auth"])
pending = APIRouter(prefix="/api/invitations", tags=["invitations"])


@resets.post(
    "/password-reset",
    name="auth.password_reset.request",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(429),
)
async def request_password_reset(
    body: PasswordResetRequest, session: SessionDep, container: ContainerDep
) -> PasswordResetAccepted:
    """Email a single-use link to choose a new password. The answer is the same whether
    or not an account uses the address."""
    await PasswordResetService(session, container).request(body.email)
    return PasswordResetAccepted(detail=RESET_ACCEPTED)


@resets.post(
    "/password-reset/confirm",
    name="auth.password_reset.confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_responses(403, 404, 410),
)
async def confirm_password_reset(
    body: PasswordResetConfirm, session: SessionDep, container: ContainerDep
) -> None:
    """Set a new password with the link's token; every session of the account ends."""
    await PasswordResetService(session, container).confirm(body.token, body.new_password)


@pending.get("", name="invitations.list")
async def list_invitations(
    principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> list[InvitationRead]:
    """Your organization's invitations still waiting to be accepted (administrators)."""
    return await PendingInvitations(session, container).list_pending(principal)


@pending.post(
    "/{invitation_id}/resend",
    name="invitations.resend",
    responses=problem_responses(404, 409),
)
async def resend_invitation(
    invitation_id: uuid.UUID, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> InvitationRead:
    """Send a new link; the previous one stops working and the time runs again from now."""
    return await PendingInvitations(session, container).resend(principal, invitation_id)


routers: list[APIRouter] = [resets, pending]
