"""Organizations, plus the account factories the CLI, the invitations and users_service use."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.bootstrap import Container
from clinvault.config import Settings
from clinvault.errors import (
    EmailUnavailable,
    OrganizationNotFound,
    OrganizationSlugTaken,
    RoleNotAllowed,
)
from clinvault.identity import policies
from clinvault.identity.authn import PLATFORM_KIND
from clinvault.identity.passwords import check_policy, hash_password
from clinvault.identity.policies import require
from clinvault.identity.principal import Principal, Role
from clinvault.identity.repository import IdentityRepository
from clinvault.identity.schemas import (
    OrganizationCreate,
    OrganizationRead,
    UserRead,
)
from clinvault.models.identity import Organization, User

log = structlog.get_logger(__name__)

ORGANIZATION_KINDS = ("provider", "pharmacy", PLATFORM_KIND)

ROLE_DESCRIPTIONS: dict[Role, str] = {
    Role.ADMIN: "Platform operator: creates organizations and sees every tenant.",
    Role.ORG_ADMIN: "Manages the organization's members, their roles and invitations.",
    Role.DOCTOR: "Treats patients: records, appointments, prescriptions and care plans.",
    Role.NURSE: "Supports care: reads and updates records and appointments.",
    Role.CLERK: "Front desk: registers patients and manages appointments.",
    Role.CREDENTIALING_REVIEWER: "Reviews practitioners' credential submissions.",
    Role.PHARMACIST: "Verifies and fulfils prescriptions sent to the pharmacy.",
    Role.PATIENT: "Sees their own records, appointments and prescriptions.",
}

EMAIL_UNAVAILABLE = (
    "An account with this email cannot be registered; sign in or reset your password."
)


def normalize_email(value: str) -> str:
    return value.strip().lower()


def user_read(user: User, organization_name: str | None = None) -> UserRead:
    return UserRead(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        phone=user.phone,
        time_zone=user.time_zone,
        organization_id=user.organization_id,
        organization_name=organization_name,
        roles=list(user.roles),
        mfa_enabled=user.mfa_enabled,
        is_active=user.is_active,
        created_at=user.created_at,
    )


def organization_read(organization: Organization) -> OrganizationRead:
    return OrganizationRead.model_validate(organization, from_attributes=True)


def unique_roles(roles: Iterable[Role | str]) -> list[Role]:
    result: list[Role] = []
    for role in roles:
        value = Role(role)
        if value not in result:
            result.append(value)
    return result


async def create_organization(
    session: AsyncSession,
    *,
    name: str,
    slug: str,
    kind: str = "provider",
    allow_patient_registration: bool = False,
) -> Organization:
    """Create a tenant. `kind` is provider, pharmacy or platform (the operators' tenant)."""
    if kind not in ORGANIZATION_KINDS:
        raise ValueError(f"organization kind must be one of {', '.join(ORGANIZATION_KINDS)}")
    repository = IdentityRepository(session)
    if await repository.organization_by_slug_global(slug) is not None:
        raise OrganizationSlugTaken(f"The slug {slug!r} is taken: choose another one.")
    organization = Organization(
        name=name, slug=slug, kind=kind, allow_patient_registration=allow_patient_registration
    )
    try:
        await repository.add(organization)
    except IntegrityError:
        raise OrganizationSlugTaken(f"The slug {slug!r} is taken: choose another one.") from None
    log.info("identity.organization.created", organization_id=str(organization.id), kind=kind)
    return organization


async def create_user(
    session: AsyncSession,
    settings: Settings,
    *,
    organization_id: uuid.UUID,
    email: str,
    password: str | None,
    roles: Iterable[Role | str],
    display_name: str = "",
    is_demo: bool = False,
) -> User:
    """Create an account without permission checks: for trusted callers (CLI, demo, services).

    `password=None` creates an account that can only sign in through OIDC.
    The `admin` role is accepted only in the platform organization.
    """
    repository = IdentityRepository(session)
    organization = await repository.organization(organization_id, tenant=organization_id)
    if organization is None:
        raise OrganizationNotFound("The organization does not exist: create it first.")
    granted = unique_roles(roles)
    if not granted:
        raise RoleNotAllowed("Give the account at least one role.")
    if Role.ADMIN in granted and organization.kind != PLATFORM_KIND:
        raise RoleNotAllowed("The admin role exists only in the platform organization.")
    if password is not None:
        check_policy(password, min_length=settings.security.password_min_length)
    address = normalize_email(email)
    if await repository.email_taken_global(address):
        raise EmailUnavailable(EMAIL_UNAVAILABLE)
    password_hash = None if password is None else await hash_password(password)
    user = User(
        organization_id=organization.id,
        email=address,
        display_name=display_name,
        password_hash=password_hash,
        roles=[role.value for role in granted],
        is_demo=is_demo,
    )
    try:
        await repository.add(user)
    except IntegrityError:
        raise EmailUnavailable(EMAIL_UNAVAILABLE) from None
    log.info("identity.user.created", user_id=str(user.id), organization_id=str(organization.id))
    return user


class OrganizationService:
    def __init__(self, session: AsyncSession, container: Container) -> None:
        self.session = session
        self.container = container
        self.repository = IdentityRepository(session)

    async def create(self, principal: Principal, data: OrganizationCreate) -> OrganizationRead:
        require(
            policies.can_create_organization(principal),
            "Only platform administrators can create organizations.",
        )
        organization = await create_organization(
            self.session,
            name=data.name,
            slug=data.slug,
            kind=data.kind,
            allow_patient_registration=data.allow_patient_registration,
        )
        context.describe_resource("organization", organization.id)
        return organization_read(organization)

    async def list_organizations(
        self, principal: Principal, *, limit: int = 50, offset: int = 0
    ) -> list[OrganizationRead]:
        context.describe_resource("organization")
        tenant = None
        if not policies.can_list_all_organizations(principal):
            require(
                policies.can_read_organization(principal, principal.organization_id),
                "You cannot list organizations.",
            )
            tenant = principal.organization_id
        rows = await self.repository.organizations(tenant=tenant, limit=limit, offset=offset)
        return [organization_read(row) for row in rows]

    async def get(self, principal: Principal, organization_id: uuid.UUID) -> OrganizationRead:
        context.describe_resource("organization", organization_id)
        tenant = None if principal.is_platform_admin else principal.organization_id
        organization = await self.repository.organization(organization_id, tenant=tenant)
        if organization is None:
            raise OrganizationNotFound("No organization with this id: check the id.")
        require(
            policies.can_read_organization(principal, organization.id),
            "You cannot read this organization.",
        )
        return organization_read(organization)
