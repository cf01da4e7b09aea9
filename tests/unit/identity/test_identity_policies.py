"""The permission functions: deny by default, tenant from the principal."""

from __future__ import annotations

import uuid

import pytest

from clinvault.errors import PermissionDenied
from clinvault.identity import policies
from clinvault.identity.authn import effective_roles
from clinvault.identity.principal import Principal, Role

ORG_A, ORG_B = uuid.uuid4(), uuid.uuid4()


def principal(*roles: Role, org: uuid.UUID = ORG_A) -> Principal:
    return Principal(user_id=uuid.uuid4(), organization_id=org, roles=frozenset(roles))


def test_require_raises_permission_denied_with_the_detail() -> None:
    policies.require(True, "fine")
    with pytest.raises(PermissionDenied, match="nope"):
        policies.require(False, "nope")


def test_only_platform_admins_create_or_list_every_organization() -> None:
    assert policies.can_create_organization(principal(Role.ADMIN))
    assert policies.can_list_all_organizations(principal(Role.ADMIN))
    for role in Role:
        if role is not Role.ADMIN:
            assert not policies.can_create_organization(principal(role))
            assert not policies.can_list_all_organizations(principal(role))


def test_organizations_are_readable_by_members_and_platform_admins() -> None:
    assert policies.can_read_organization(principal(Role.PATIENT), ORG_A)
    assert not policies.can_read_organization(principal(Role.ORG_ADMIN), ORG_B)
    assert policies.can_read_organization(principal(Role.ADMIN), ORG_B)


def test_user_administration_needs_org_admin_in_the_same_tenant() -> None:
    admin = principal(Role.ORG_ADMIN)
    nurse = principal(Role.NURSE)
    other = uuid.uuid4()
    assert policies.can_list_users(admin, ORG_A)
    assert not policies.can_list_users(admin, ORG_B)
    assert not policies.can_list_users(admin, None)
    assert policies.can_list_users(principal(Role.ADMIN), None)
    assert not policies.can_list_users(nurse, ORG_A)
    assert policies.can_read_user(admin, other, ORG_A)
    assert not policies.can_read_user(nurse, other, ORG_A)
    assert policies.can_read_user(nurse, nurse.user_id, ORG_A)
    assert policies.can_update_user(admin, ORG_A)
    assert not policies.can_update_user(nurse, ORG_A)
    assert not policies.can_deactivate_user(admin, admin.user_id)


def test_admin_role_is_never_granted_through_the_api() -> None:
    admin = principal(Role.ORG_ADMIN)
    assert policies.can_grant_roles(admin, [Role.DOCTOR, Role.NURSE])
    assert not policies.can_grant_roles(admin, [Role.ADMIN])
    assert not policies.can_grant_roles(principal(Role.ADMIN), [Role.ADMIN])
    assert not policies.can_grant_roles(principal(Role.NURSE), [Role.NURSE])


def test_invitations_and_self_registration() -> None:
    assert policies.can_manage_invitations(principal(Role.ORG_ADMIN), ORG_A)
    assert not policies.can_manage_invitations(principal(Role.ORG_ADMIN), ORG_B)
    assert not policies.can_manage_invitations(principal(Role.DOCTOR), ORG_A)
    assert policies.can_self_register(None)
    assert policies.can_self_register("patient")
    for role in Role:
        if role is not Role.PATIENT:
            assert not policies.can_self_register(role.value)


def test_admin_role_only_counts_in_the_platform_tenant() -> None:
    assert effective_roles(["admin", "nurse", "bogus"], "provider") == {Role.NURSE}
    assert effective_roles(["admin"], "platform") == {Role.ADMIN}
