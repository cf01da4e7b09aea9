"""Pending invitations for organization administrators: resend or withdraw them."""

from __future__ import annotations

import uuid

from fastapi import Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.bootstrap import Container
from clinvault.deps import ContainerDep, SessionDep
from clinvault.errors import AppError, Conflict, InvitationNotFound
from clinvault.identity.accounts.invitations import PendingInvitations
from clinvault.identity.invitation_service import InvitationService
from clinvault.identity.principal import Principal
from clinvault.web.pages.common import VerifiedForm, discard_changes, portal_router, see_other
from clinvault.web.render import render
from clinvault.web.session import PortalPrincipal

router = portal_router()

NOTICES = {
    "resent": "A new link was sent; the previous link no longer works.",
    "revoked": "Invitation withdrawn: its link no longer works.",
}


async def _page(
    request: Request,
    principal: Principal,
    session: AsyncSession,
    container: Container,
    *,
    notice: str | None = None,
    error: AppError | None = None,
) -> Response:
    invitations = await PendingInvitations(session, container).list_pending(principal)
    values = {
        "invitations": invitations,
        "notice": notice,
        "error": None if error is None else error.detail,
    }
    status_code = 200 if error is None else error.status
    return render(
        request, "invitations_pending.html", values, principal=principal, status_code=status_code
    )


@router.get("/users/invitations", name="portal.invitations.pending")
async def pending_page(
    request: Request,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
    notice: str = "",
) -> Response:
    return await _page(request, principal, session, container, notice=NOTICES.get(notice))


@router.post("/users/invitations/{invitation_id:uuid}/resend", name="portal.invitations.resend")
async def resend(
    request: Request,
    invitation_id: uuid.UUID,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    try:
        await PendingInvitations(session, container).resend(principal, invitation_id)
    except (Conflict, InvitationNotFound) as error:
        await discard_changes(session)
        return await _page(request, principal, session, container, error=error)
    return see_other("/users/invitations?notice=resent")


@router.post("/users/invitations/{invitation_id:uuid}/revoke", name="portal.invitations.revoke")
async def revoke(
    request: Request,
    invitation_id: uuid.UUID,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    try:
        await InvitationService(session, container).revoke(principal, invitation_id)
    except (Conflict, InvitationNotFound) as error:
        await discard_changes(session)
        return await _page(request, principal, session, container, error=error)
    return see_other("/users/invitations?notice=revoked")
