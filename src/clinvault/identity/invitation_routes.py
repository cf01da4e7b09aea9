"""HTTP routes of invitations."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Response, status

from clinvault.api_contract import problem_responses
from clinvault.deps import ContainerDep, PrincipalDep, SessionDep
from clinvault.identity.invitation_service import InvitationService
from clinvault.identity.schemas import (
    InvitationAccept,
    InvitationCreate,
    InvitationPreview,
    InvitationRead,
    UserRead,
)
from clinvault.inputs import SingleLine

invitations = APIRouter(
    prefix="/api/invitations",
    tags=["invitations"],
    responses=problem_responses(404, 409, 410),
)


@invitations.post("", name="invitations.create", status_code=status.HTTP_201_CREATED)
async def create_invitation(
    body: InvitationCreate, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> InvitationRead:
    """Invite someone into your organization; the link is sent by email."""
    return await InvitationService(session, container).create(principal, body)


@invitations.post("/accept", name="invitations.accept", status_code=status.HTTP_201_CREATED)
async def accept_invitation(
    body: InvitationAccept, session: SessionDep, container: ContainerDep
) -> UserRead:
    """Create the invited account; the invitation link then stops working."""
    return await InvitationService(session, container).accept(
        body.token, body.password, body.display_name
    )


@invitations.get("/{token}", name="invitations.lookup")
async def lookup_invitation(
    token: Annotated[str, SingleLine(128, strip=False)],
    session: SessionDep,
    container: ContainerDep,
) -> InvitationPreview:
    return await InvitationService(session, container).lookup(token)


@invitations.delete(
    "/{invitation_id}",
    name="invitations.revoke",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
)
async def revoke_invitation(
    invitation_id: uuid.UUID, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> None:
    await InvitationService(session, container).revoke(principal, invitation_id)
