"""User administration: members of an organization, their roles and whether they may sign in.

Organization administrators manage their own organization only; platform
administrators reach every tenant. Two changes that would lock an
organization's administration out are refused with a 409: deactivating your
own account, and dropping your own org_admin role when nobody else holds it.
"""

from __future__ import annotations

import uuid

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.bootstrap import Container
from clinvault.errors import (
    EmailUnavailable,
    LastOrgAdminRequired,
    OrganizationNotFound,
    RoleNotAllowed,
    SelfDeactivationRefused,
    UserNotFound,
)
from clinvault.identity import policies
from clinvault.identity.admin_service import (
    ROLE_DESCRIPTIONS,
    create_user,
    normalize_email,
    unique_roles,
    user_read,
)
from clinvault.identity.policies import require
from clinvault.identity.principal import ORGANIZATION_ROLES, Principal, Role
from clinvault.identity.repository import IdentityRepository
from clinvault.identity.roles import require_roles_fit, roles_for_kind
from clinvault.identity.schemas import (
    RoleRead,
    UserChange,
    UserCreate,
    UserPage,
    UserRead,
    UserUpdate,
)
from clinvault.models.identity import User
from clinvault.timeutil import utcnow

log = structlog.get_logger(__name__)


# Defined beside their only raiser while errors.py is at its size limit.
ROLE_NOT_GRANTABLE = (
    "The admin role is granted only by the platform operators: choose organization roles "
    "(see GET /api/users/roles)."
)


PRACTITIONER_DIRECTORY_LIMIT = 500


class UserService:
    def __init__(self, session: AsyncSession, container: Container) -> None:
        self.session = session
        self.container = container
        self.repository = IdentityRepository(session)

    def _tenant(self, principal: Principal) -> uuid.UUID | None:
        return None if principal.is_platform_admin else principal.organization_id

    async def _load(self, principal: Principal, user_id: uuid.UUID) -> tuple[User, str]:
        context.describe_resource("user", user_id)
        found = await self.repository.user(user_id, tenant=self._tenant(principal))
        if found is None:
            raise UserNotFound("No user with this id in your organization: check the id.")
        return found

    async def _load_for_change(self, principal: Principal, user_id: uuid.UUID) -> tuple[User, str]:
        user, organization_name = await self._load(principal, user_id)
        require(
            policies.can_update_user(principal, user.organization_id),
            "Only an organization administrator can change members' accounts.",
        )
        return user, organization_name

    async def list_users(
        self,
        principal: Principal,
        *,
        organization_id: uuid.UUID | None = None,
        role: Role | None = None,
        is_active: bool | None = None,
        email_contains: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> UserPage:
        """A page of members ordered by email; the tenant is the principal's own.

        Only platform administrators may name another organization (or none: all).
        """
        context.describe_resource("user")
        # Refuse a role that may never list users before looking at the query,
        # so that the answer does not depend on which organization it names.
        require(
            policies.can_list_users(principal, principal.organization_id),
            "Only organization administrators can list users.",
        )
        if principal.is_platform_admin:
            tenant = organization_id
        elif organization_id is not None and organization_id != principal.organization_id:
            raise OrganizationNotFound("No organization with this id: check the id.")
        else:
            tenant = principal.organization_id
        needle = normalize_email(email_contains) if email_contains else None
        rows, total = await self.repository.users(
            tenant=tenant,
            limit=limit,
            offset=offset,
            role=None if role is None else role.value,
            is_active=is_active,
            email_contains=needle or None,
        )
        return UserPage(
            items=[user_read(user, name) for user, name in rows],
            total=total,
            limit=limit,
            offset=offset,
        )

    async def practitioners(self, principal: Principal) -> dict[uuid.UUID, str]:
        """Display names of the active doctors and nurses of the principal's organization."""
        require(
            policies.can_list_practitioners(principal),
            "Only staff of the organization can see its practitioners.",
        )
        names: dict[uuid.UUID, str] = {}
        for role in (Role.DOCTOR, Role.NURSE):
            rows, _ = await self.repository.users(
                tenant=principal.organization_id,
                limit=PRACTITIONER_DIRECTORY_LIMIT,
                offset=0,
                role=role.value,
                is_active=True,
                email_contains=None,
            )
            names.update({user.id: user.display_name or user.email for user, _ in rows})
        return names

    async def get(self, principal: Principal, user_id: uuid.UUID) -> UserRead:
        user, organization_name = await self._load(principal, user_id)
        require(
            policies.can_read_user(principal, user.id, user.organization_id),
            "Only an organization administrator can view other members' accounts.",
        )
        return user_read(user, organization_name)

    async def roles(self, principal: Principal) -> list[RoleRead]:
        """The roles of the principal's kind of organization (every role for the platform)."""
        require(policies.can_list_roles(principal), "You cannot list roles.")
        offered = set(await self._roles_of(principal.organization_id))
        return [
            RoleRead(name=role.value, description=ROLE_DESCRIPTIONS[role])
            for role in Role
            if principal.is_platform_admin or (role in ORGANIZATION_ROLES and role in offered)
        ]

    async def _roles_of(self, organization_id: uuid.UUID) -> tuple[Role, ...]:
        organization = await self.repository.organization(organization_id, tenant=organization_id)
        return () if organization is None else roles_for_kind(organization.kind)

    async def _require_roles_fit(self, organization_id: uuid.UUID, roles: list[Role]) -> None:
        organization = await self.repository.organization(organization_id, tenant=organization_id)
        if organization is None:
            raise OrganizationNotFound("No organization with this id: check the id.")
        require_roles_fit(roles, organization.kind)

    async def create(self, principal: Principal, data: UserCreate) -> UserRead:
        """A new member of the principal's own organization, signing in with `password`."""
        context.describe_resource("user")
        tenant = principal.organization_id
        require(
            policies.can_create_user(principal, tenant),
            "Only an organization administrator can create members' accounts.",
        )
        roles = unique_roles(data.roles)
        if not policies.can_grant_roles(principal, roles):
            raise RoleNotAllowed(ROLE_NOT_GRANTABLE)
        await self._require_roles_fit(tenant, roles)
        if await self.repository.email_taken_global(normalize_email(data.email)):
            raise EmailUnavailable(
                "This email address cannot be used for a new account: if the person already "
                "has one in your organization, change it with PUT /api/users/{id}; otherwise "
                "use another address."
            )
        user = await create_user(
            self.session,
            self.container.settings,
            organization_id=tenant,
            email=str(data.email),
            password=data.password,
            roles=roles,
            display_name=data.display_name,
        )
        # The administrator knows this password: its holder chooses their own at first sign-in.
        user.must_change_password = True
        await self.session.flush()
        context.describe_resource("user", user.id)
        found = await self.repository.user(user.id, tenant=tenant)
        return user_read(user, found[1] if found else None)

    async def update(
        self, principal: Principal, user_id: uuid.UUID, data: UserUpdate | UserChange
    ) -> UserRead:
        """Change a member's display name and roles (and, through PATCH, the active flag)."""
        user, organization_name = await self._load_for_change(principal, user_id)
        if data.roles is not None:
            roles = unique_roles(data.roles)
            if not policies.can_grant_roles(principal, roles):
                raise RoleNotAllowed(ROLE_NOT_GRANTABLE)
            await self._require_roles_fit(user.organization_id, roles)
            await self._refuse_losing_last_org_admin(principal, user, roles)
            user.roles = [role.value for role in roles]
        if data.display_name is not None:
            user.display_name = data.display_name
        if isinstance(data, UserUpdate) and data.is_active is not None:
            if not data.is_active and not policies.can_deactivate_user(principal, user.id):
                raise SelfDeactivationRefused(
                    "You cannot deactivate your own account: ask another organization "
                    "administrator to do it."
                )
            await self._set_active(user, data.is_active)
        user.updated_at = utcnow()
        await self.session.flush()
        return user_read(user, organization_name)

    async def deactivate(self, principal: Principal, user_id: uuid.UUID) -> UserRead:
        """Stop a member from signing in; their sessions end at once. Repeating it is harmless."""
        user, organization_name = await self._load_for_change(principal, user_id)
        if not policies.can_deactivate_user(principal, user.id):
            raise SelfDeactivationRefused(
                "You cannot deactivate your own account: ask another organization "
                "administrator to do it."
            )
        await self._set_active(user, False)
        await self.session.flush()
        return user_read(user, organization_name)

    async def activate(self, principal: Principal, user_id: uuid.UUID) -> UserRead:
        """Let a deactivated member sign in again (with their existing password)."""
        user, organization_name = await self._load_for_change(principal, user_id)
        await self._set_active(user, True)
        await self.session.flush()
        return user_read(user, organization_name)

    async def _set_active(self, user: User, active: bool) -> None:
        if user.is_active == active:
            return
        now = utcnow()
        user.is_active = active
        user.updated_at = now
        if not active:
            await self.repository.revoke_user_sessions(user.id, now=now)
        log.info(
            "identity.user.activated" if active else "identity.user.deactivated",
            user_id=str(user.id),
            organization_id=str(user.organization_id),
        )

    async def _refuse_losing_last_org_admin(
        self, principal: Principal, user: User, roles: list[Role]
    ) -> None:
        dropping = Role.ORG_ADMIN.value in user.roles and Role.ORG_ADMIN not in roles
        if not dropping or user.id != principal.user_id:
            return
        others = await self.repository.count_active_with_role(
            Role.ORG_ADMIN.value, tenant=user.organization_id, excluding=user.id
        )
        if others == 0:
            raise LastOrgAdminRequired(
                "You are the organization's only active org_admin: give the role to another "
                "member first, then remove it from your own account."
            )
