"""HTTP routes of shares: /api/care-plans/shares and /api/care-plans/{id}/shares.

Included before the plan routes, so that `/shares` is never read as a plan id.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, status

from clinvault.api_contract import problem_responses
from clinvault.careplans.schemas import ShareCreate, ShareRead, ShareUpdate
from clinvault.careplans.shares import ShareService
from clinvault.deps import ContainerDep, PrincipalDep, SessionDep

router = APIRouter(prefix="/api/care-plans", tags=["care plans"], responses=problem_responses(404))
PlanId = Annotated[uuid.UUID, Path(description="The care plan id")]
ShareId = Annotated[uuid.UUID, Path(description="The share id")]


@router.get("/shares", name="careplans.shares.owned")
async def owned_shares(
    principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> list[ShareRead]:
    """Every live share of the organization's plans, in one place."""
    return await ShareService(session, container).owned(principal)


@router.get("/shares/incoming", name="careplans.shares.incoming")
async def incoming_shares(
    principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> list[ShareRead]:
    """Shares offered to you or to your organization (pending ones to accept)."""
    return await ShareService(session, container).incoming(principal)


@router.post("/shares/{share_id}/accept", name="careplans.shares.accept")
async def accept_share(
    share_id: ShareId, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> ShareRead:
    """A clinician of the receiving organization accepts: the plan shows in its lists."""
    return await ShareService(session, container).accept(principal, share_id)


@router.patch("/shares/{share_id}", name="careplans.shares.update")
async def change_share(
    share_id: ShareId,
    body: ShareUpdate,
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
) -> ShareRead:
    """The owning organization changes the expiry."""
    service = ShareService(session, container)
    return await service.change_expiry(principal, share_id, body.expires_on)


@router.post("/shares/{share_id}/revoke", name="careplans.shares.revoke")
async def revoke_share(
    share_id: ShareId, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> ShareRead:
    """Ends the share at once; it stays on record with who revoked it and when."""
    return await ShareService(session, container).revoke(principal, share_id)


@router.post(
    "/{plan_id}/shares", name="careplans.shares.create", status_code=status.HTTP_201_CREATED
)
async def create_share(
    plan_id: PlanId,
    body: ShareCreate,
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
) -> ShareRead:
    """Share with a user or another provider organization, at a level up to your own."""
    return await ShareService(session, container).share(principal, plan_id, body)


@router.get("/{plan_id}/shares", name="careplans.shares.list")
async def list_shares(
    plan_id: PlanId, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> list[ShareRead]:
    """Every share of the plan, revoked and expired ones included."""
    return await ShareService(session, container).of_plan(principal, plan_id)
