"""Who may do what with organizations, users and invitations. Deny by default.

Each `can_*` is a pure function of the principal and the facts of the target;
services call `require(can_x(...), detail)` before acting. A target in another
tenant never reaches these functions: the scoped query has already answered 404.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from clinvault.errors import PermissionDenied
from clinvault.identity.principal import ORGANIZATION_ROLES, Principal, Role


def require(allowed: bool, detail: str) -> None:
    if not allowed:
        raise PermissionDenied(detail)


def _manages(principal: Principal, organization_id: uuid.UUID) -> bool:
    return principal.is_platform_admin or (
        principal.organization_id == organization_id and principal.has(Role.ORG_ADMIN)
    )


def can_use_own_account(principal: Principal, user_id: uuid.UUID) -> bool:
    return principal.user_id == user_id


def can_create_organization(principal: Principal) -> bool:
    return principal.is_platform_admin


def can_list_all_organizations(principal: Principal) -> bool:
    return principal.is_platform_admin


def can_read_organization(principal: Principal, organization_id: uuid.UUID) -> bool:
    return principal.is_platform_admin or principal.organization_id == organization_id


STAFF_ROLES = frozenset(
    {Role.ORG_ADMIN, Role.DOCTOR, Role.NURSE, Role.CLERK, Role.CREDENTIALING_REVIEWER}
)


def can_set_organization_time_zone(principal: Principal, organization_id: uuid.UUID) -> bool:
    return _manages(principal, organization_id)


def can_list_practitioners(principal: Principal) -> bool:
    """Staff of a provider, and its patients, see who can take appointments (names only)."""
    return principal.has(Role.PATIENT) or any(principal.has(role) for role in STAFF_ROLES)


def can_list_users(principal: Principal, organization_id: uuid.UUID | None) -> bool:
    if organization_id is None:
        return principal.is_platform_admin
    return _manages(principal, organization_id)


def can_read_user(principal: Principal, user_id: uuid.UUID, organization_id: uuid.UUID) -> bool:
    return principal.user_id == user_id or _manages(principal, organization_id)


def can_update_user(principal: Principal, organization_id: uuid.UUID) -> bool:
    return _manages(principal, organization_id)


def can_create_user(principal: Principal, organization_id: uuid.UUID) -> bool:
    return principal.organization_id == organization_id and principal.has(
        Role.ORG_ADMIN, Role.ADMIN
    )


def can_deactivate_user(principal: Principal, user_id: uuid.UUID) -> bool:
    return principal.user_id != user_id


def can_grant_roles(principal: Principal, roles: Iterable[Role]) -> bool:
    return principal.has(Role.ORG_ADMIN, Role.ADMIN) and all(
        role in ORGANIZATION_ROLES for role in roles
    )


def can_list_roles(principal: Principal) -> bool:
    return bool(principal.roles)


def can_manage_invitations(principal: Principal, organization_id: uuid.UUID) -> bool:
    return principal.organization_id == organization_id and principal.has(
        Role.ORG_ADMIN, Role.ADMIN
    )


def can_self_register(role: str | None) -> bool:
    return role is None or role == Role.PATIENT.value
