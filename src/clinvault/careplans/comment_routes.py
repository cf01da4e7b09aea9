"""HTTP routes of comment threads: /api/care-plans/{id}/comments."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, status

from clinvault.api_contract import problem_responses
from clinvault.careplans.comments import CommentService
from clinvault.careplans.schemas import CommentCreate, CommentRead, CommentUpdate
from clinvault.deps import ContainerDep, PrincipalDep, SessionDep

router = APIRouter(
    prefix="/api/care-plans/{plan_id}/comments",
    tags=["care plans"],
    responses=problem_responses(404),
)
PlanId = Annotated[uuid.UUID, Path(description="The care plan id")]
CommentId = Annotated[uuid.UUID, Path(description="The comment id")]


@router.get("", name="careplans.comments.list")
async def list_comments(
    plan_id: PlanId, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> list[CommentRead]:
    """Every thread with its replies, each marked with its version (and outdated)."""
    return await CommentService(session, container).threads(principal, plan_id)


@router.post("", name="careplans.comments.create", status_code=status.HTTP_201_CREATED)
async def create_comment(
    plan_id: PlanId,
    body: CommentCreate,
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
) -> CommentRead:
    """A thread (optionally on a goal or activity) or a reply; mentions are notified."""
    return await CommentService(session, container).comment(principal, plan_id, body)


@router.patch("/{comment_id}", name="careplans.comments.update", responses=problem_responses(409))
async def edit_comment(
    plan_id: PlanId,
    comment_id: CommentId,
    body: CommentUpdate,
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
) -> CommentRead:
    """Its author edits it within 15 minutes; later it is append-only."""
    service = CommentService(session, container)
    return await service.edit(principal, plan_id, comment_id, body.body)


@router.post("/{comment_id}/resolve", name="careplans.comments.resolve")
async def resolve_thread(
    plan_id: PlanId,
    comment_id: CommentId,
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
) -> CommentRead:
    """Mark a thread resolved."""
    return await CommentService(session, container).resolve(principal, plan_id, comment_id, True)


@router.post("/{comment_id}/reopen", name="careplans.comments.reopen")
async def reopen_thread(
    plan_id: PlanId,
    comment_id: CommentId,
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
) -> CommentRead:
    """Reopen a resolved thread."""
    service = CommentService(session, container)
    return await service.resolve(principal, plan_id, comment_id, False)
