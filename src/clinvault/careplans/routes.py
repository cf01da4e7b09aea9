"""HTTP routes: /api/care-plans/ and each plan's versions, diff and restore."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response, status

from clinvault.api_contract import problem_responses
from clinvault.careplans.attachment_routes import preferences_router
from clinvault.careplans.attachment_routes import router as attachment_router
from clinvault.careplans.comment_routes import router as comment_router
from clinvault.careplans.schemas import (
    CarePlanCreate,
    CarePlanList,
    CarePlanRead,
    CarePlanUpdate,
    DiffRead,
    VersionRead,
    VersionSummary,
)
from clinvault.careplans.service import CarePlanService
from clinvault.careplans.share_routes import router as share_router
from clinvault.careplans.states import PlanStatus
from clinvault.deps import ContainerDep, PrincipalDep, SessionDep
from clinvault.inputs import INT32_MAX, Limit, Offset, SingleLine

router = APIRouter(prefix="/api/care-plans", tags=["care plans"], responses=problem_responses(404))
Id = Annotated[uuid.UUID, Path(description="The care plan id")]
Number = Annotated[int, Path(ge=1, le=INT32_MAX, description="A version number")]
IfMatch = Annotated[
    Annotated[str, SingleLine(200)] | None,
    Header(description="The ETag of the version the change is based on"),
]


def _tagged(response: Response, plan: CarePlanRead) -> CarePlanRead:
    response.headers["ETag"] = plan.etag
    return plan


@router.post("/", name="careplans.create", status_code=status.HTTP_201_CREATED)
async def create_plan(
    body: CarePlanCreate,
    response: Response,
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
) -> CarePlanRead:
    """A plan and its version 1 (doctors, nurses, organization administrators)."""
    return _tagged(response, await CarePlanService(session, container).create(principal, body))


@router.get("/", name="careplans.list")
async def list_plans(
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
    patient_id: uuid.UUID | None = None,
    status_filter: Annotated[PlanStatus | None, Query(alias="status")] = None,
    limit: Annotated[Limit, Query(description="Page size")] = 50,
    offset: Annotated[Offset, Query(description="Items to skip")] = 0,
) -> CarePlanList:
    """The organization's plans (clinicians) or a patient's own shared ones."""
    return await CarePlanService(session, container).search(
        principal, patient_id=patient_id, status=status_filter, limit=limit, offset=offset
    )


@router.get("/{plan_id}", name="careplans.read")
async def read_plan(
    plan_id: Id,
    response: Response,
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
) -> CarePlanRead:
    """The current version, with its ETag."""
    return _tagged(response, await CarePlanService(session, container).get(principal, plan_id))


@router.put("/{plan_id}", name="careplans.update", responses=problem_responses(404, 412, 428))
async def update_plan(
    plan_id: Id,
    body: CarePlanUpdate,
    response: Response,
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
    if_match: IfMatch = None,
) -> CarePlanRead:
    """A new version; `If-Match` names the version it is based on (412 if stale, 428 if
    missing)."""
    service = CarePlanService(session, container)
    return _tagged(response, await service.update(principal, plan_id, body, if_match))


@router.get("/{plan_id}/versions", name="careplans.versions.list")
async def list_versions(
    plan_id: Id, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> list[VersionSummary]:
    """Every version, oldest first: number, author, time, status."""
    return await CarePlanService(session, container).versions(principal, plan_id)


@router.get("/{plan_id}/versions/{number}", name="careplans.versions.read")
async def read_version(
    plan_id: Id,
    number: Number,
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
) -> VersionRead:
    """One version as it was written."""
    return await CarePlanService(session, container).version(principal, plan_id, number)


@router.post(
    "/{plan_id}/versions/{number}/restore",
    name="careplans.versions.restore",
    responses=problem_responses(404, 412, 428),
)
async def restore_version(
    plan_id: Id,
    number: Number,
    response: Response,
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
    if_match: IfMatch = None,
) -> CarePlanRead:
    """A new version copying version `number`; `If-Match` as for an update."""
    service = CarePlanService(session, container)
    return _tagged(response, await service.restore(principal, plan_id, number, if_match))


@router.get("/{plan_id}/diff", name="careplans.diff")
async def diff_versions(
    plan_id: Id,
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
    from_version: Annotated[int, Query(alias="from", ge=1, le=INT32_MAX)],
    to_version: Annotated[int, Query(alias="to", ge=1, le=INT32_MAX)],
) -> DiffRead:
    """The fields that changed between two versions and a line diff of the body."""
    return await CarePlanService(session, container).diff(
        principal, plan_id, from_version, to_version
    )


@router.post("/{plan_id}/watch", name="careplans.watch")
async def watch_plan(
    plan_id: Id, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> CarePlanRead:
    """Be notified of new versions, comments, shares and status changes."""
    return await CarePlanService(session, container).set_watching(principal, plan_id, True)


@router.post("/{plan_id}/unwatch", name="careplans.unwatch")
async def unwatch_plan(
    plan_id: Id, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> CarePlanRead:
    """Stop being notified, even as its author, a share's user or a commenter."""
    return await CarePlanService(session, container).set_watching(principal, plan_id, False)


routers = (share_router, preferences_router, router, comment_router, attachment_router)
