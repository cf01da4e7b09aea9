"""HTTP routes of organizations and user administration."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from clinvault.deps import ContainerDep, PrincipalDep, SessionDep
from clinvault.identity.admin_service import OrganizationService, UserService
from clinvault.identity.schemas import (
    OrganizationCreate,
    OrganizationRead,
    RoleRead,
    UserPage,
    UserRead,
    UserUpdate,
)

organizations = APIRouter(prefix="/api/organizations", tags=["organizations"])
users = APIRouter(prefix="/api/users", tags=["users"])

Limit = Annotated[int, Query(ge=1, le=200, description="Page size")]
Offset = Annotated[int, Query(ge=0, description="Items to skip")]


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
    organization_id: uuid.UUID | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> UserPage:
    """Members of your organization (administrators); platform administrators see all."""
    return await UserService(session, container).list_users(
        principal, organization_id=organization_id, limit=limit, offset=offset
    )


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
