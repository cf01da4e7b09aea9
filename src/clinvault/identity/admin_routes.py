"""HTTP routes of organizations and user administration."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from clinvault.api_contract import problem_responses
from clinvault.deps import ContainerDep, PrincipalDep, SessionDep
from clinvault.identity.admin_service import OrganizationService
from clinvault.identity.principal import Role
from clinvault.identity.schemas import (
    OrganizationCreate,
    OrganizationRead,
    RoleRead,
    UserChange,
    UserCreate,
    UserPage,
    UserRead,
    UserUpdate,
)
from clinvault.identity.users_service import UserService
from clinvault.inputs import MAX_LIMIT, SingleLine
from clinvault.inputs import Limit as LimitValue
from clinvault.inputs import Offset as OffsetValue

organizations = APIRouter(
    prefix="/api/organizations", tags=["organizations"], responses=problem_responses(404, 409)
)
users = APIRouter(prefix="/api/users", tags=["users"], responses=problem_responses(404, 409))

Limit = Annotated[LimitValue, Query(description=f"Page size (at most {MAX_LIMIT})")]
Offset = Annotated[OffsetValue, Query(description="Items to skip")]


@organizations.post("", name="organizations.create", status_code=status.HTTP_201_CREATED)
async def create_organization(
    body: OrganizationCreate, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> OrganizationRead:
    """Create a tenant (platform administrators only)."""
    return await OrganizationService(session, container).create(principal, body)


@organizations.get("", name="organizations.list")
async def list_organizations(
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[OrganizationRead]:
    """Every organization for platform administrators; your own for everyone else."""
    return await OrganizationService(session, container).list_organizations(
        principal, limit=limit, offset=offset
    )


@organizations.get("/{organization_id}", name="organizations.read")
async def read_organization(
    organization_id: uuid.UUID,
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
) -> OrganizationRead:
    return await OrganizationService(session, container).get(principal, organization_id)


@users.get("/", name="users.list")
async def list_users(
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
    organization_id: Annotated[
        uuid.UUID | None, Query(description="Platform administrators only: one organization.")
    ] = None,
    role: Annotated[Role | None, Query(description="Members holding this role")] = None,
    active: Annotated[
        bool | None, Query(description="true: active only; false: deactivated")
    ] = None,
    q: Annotated[
        Annotated[str, SingleLine(320, min_length=0)] | None,
        Query(description="Part of the email address"),
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> UserPage:
    """Members of your organization (administrators); platform administrators see all."""
    return await UserService(session, container).list_users(
        principal,
        organization_id=organization_id,
        role=role,
        is_active=active,
        email_contains=q,
        limit=limit,
        offset=offset,
    )


@users.post("/", name="users.create", status_code=status.HTTP_201_CREATED)
async def create_user(
    body: UserCreate, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> UserRead:
    """Create a member of your own organization with a password and organization roles."""
    return await UserService(session, container).create(principal, body)


@users.get("/roles", name="users.roles")
async def list_roles(
    principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> list[RoleRead]:
    return await UserService(session, container).roles(principal)


@users.get("/{user_id}", name="users.read")
async def read_user(
    user_id: uuid.UUID, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> UserRead:
    return await UserService(session, container).get(principal, user_id)


@users.put("/{user_id}", name="users.change")
async def change_user(
    user_id: uuid.UUID,
    body: UserChange,
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
) -> UserRead:
    """Change a member's display name and roles (organization administrators)."""
    return await UserService(session, container).update(principal, user_id, body)


@users.patch("/{user_id}", name="users.update")
async def update_user(
    user_id: uuid.UUID,
    body: UserUpdate,
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
) -> UserRead:
    """Change a member's name, roles or active flag (organization administrators)."""
    return await UserService(session, container).update(principal, user_id, body)


@users.post("/{user_id}/deactivate", name="users.deactivate")
async def deactivate_user(
    user_id: uuid.UUID, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> UserRead:
    """Stop a member from signing in and end their sessions; never your own account (409)."""
    return await UserService(session, container).deactivate(principal, user_id)


@users.post("/{user_id}/activate", name="users.activate")
async def activate_user(
    user_id: uuid.UUID, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> UserRead:
    """Let a deactivated member sign in again."""
    return await UserService(session, container).activate(principal, user_id)
