"""Roles are limited by the organization's kind, from one table, on every path that grants them."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select
from tests.factories import (
    DEFAULT_PASSWORD,
    auth_headers,
    create_org,
    create_platform_admin,
    create_user,
    login,
    problem,
    signed_in,
    unique,
)

from clinvault.bootstrap import Container
from clinvault.identity.principal import ORGANIZATION_ROLES, Role
from clinvault.identity.roles import ROLES_BY_ORGANIZATION_KIND
from clinvault.models.identity import Invitation, User

MISFITS = [
    (kind, role.value)
    for kind in ("provider", "pharmacy")
    for role in sorted(ORGANIZATION_ROLES)
    if role not in ROLES_BY_ORGANIZATION_KIND[kind]
]


def test_the_table_covers_every_kind_and_keeps_admin_on_the_platform() -> None:
    assert set(ROLES_BY_ORGANIZATION_KIND) == {"provider", "pharmacy", "platform"}
    assert Role.PHARMACIST not in ROLES_BY_ORGANIZATION_KIND["provider"]
    assert Role.DOCTOR not in ROLES_BY_ORGANIZATION_KIND["pharmacy"]
    assert [kind for kind, roles in ROLES_BY_ORGANIZATION_KIND.items() if Role.ADMIN in roles] == [
        "platform"
    ]


async def counts(container: Container) -> tuple[int, int]:
    async with container.db.sessions() as session:
        users = await session.scalar(select(func.count()).select_from(User))
        invitations = await session.scalar(select(func.count()).select_from(Invitation))
        return int(users or 0), int(invitations or 0)


@pytest.mark.parametrize(("kind", "role"), MISFITS)
async def test_a_role_outside_the_kind_is_refused_everywhere(
    client: httpx.AsyncClient, container: Container, kind: str, role: str
) -> None:
    org = await create_org(container, kind=kind)
    _, admin = await signed_in(client, container, org, roles=[Role.ORG_ADMIN])
    member_role = ROLES_BY_ORGANIZATION_KIND[kind][-1]
    member = await create_user(container, org, roles=[member_role])
    before = await counts(container)

    created = await client.post(
        "/api/users/",
        json={
            "email": f"{unique('m')}@example.org",
            "display_name": "New Member",
            "roles": [role],
            "password": DEFAULT_PASSWORD,
        },
        headers=admin,
    )
    body = problem(created, 422, "role_not_for_organization")
    assert f"A {kind} organization" in body["detail"]
    assert repr(role) in body["detail"]
    assert body["errors"][0]["field"] == "roles"

    changed = await client.put(
        f"/api/users/{member.id}", json={"roles": [member_role.value, role]}, headers=admin
    )
    problem(changed, 422, "role_not_for_organization")
    patched = await client.patch(f"/api/users/{member.id}", json={"roles": [role]}, headers=admin)
    problem(patched, 422, "role_not_for_organization")

    invited = await client.post(
        "/api/invitations",
        json={"email": f"{unique('i')}@example.org", "roles": [role]},
        headers=admin,
    )
    problem(invited, 422, "role_not_for_organization")

    assert await counts(container) == before
    async with container.db.sessions() as session:
        stored = await session.get(User, member.id)
    assert stored is not None
    assert stored.roles == [member_role.value]


async def test_roles_of_the_kind_are_granted(
    client: httpx.AsyncClient, container: Container
) -> None:
    pharmacy = await create_org(container, kind="pharmacy")
    _, admin = await signed_in(client, container, pharmacy, roles=[Role.ORG_ADMIN])
    created = await client.post(
        "/api/users/",
        json={
            "email": f"{unique('p')}@example.org",
            "display_name": "Pharmacist",
            "roles": ["pharmacist"],
            "password": DEFAULT_PASSWORD,
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    invited = await client.post(
        "/api/invitations",
        json={"email": f"{unique('i')}@example.org", "roles": ["pharmacist", "org_admin"]},
        headers=admin,
    )
    assert invited.status_code == 201, invited.text


async def test_a_platform_admin_changing_a_tenant_member_meets_the_tenant_kind(
    client: httpx.AsyncClient, container: Container
) -> None:
    provider = await create_org(container)
    nurse = await create_user(container, provider, roles=[Role.NURSE])
    operator = await create_platform_admin(container)
    headers = auth_headers((await login(client, operator.email))["access_token"])
    refused = await client.put(
        f"/api/users/{nurse.id}", json={"roles": ["pharmacist"]}, headers=headers
    )
    problem(refused, 422, "role_not_for_organization")
    allowed = await client.put(
        f"/api/users/{nurse.id}", json={"roles": ["doctor"]}, headers=headers
    )
    assert allowed.status_code == 200, allowed.text


async def test_patients_register_only_with_providers(
    client: httpx.AsyncClient, container: Container
) -> None:
    pharmacy = await create_org(container, kind="pharmacy", allow_patient_registration=True)
    before = await counts(container)
    response = await client.post(
        "/api/auth/register",
        json={
            "organization": pharmacy.slug,
            "email": f"{unique('r')}@example.org",
            "password": DEFAULT_PASSWORD,
            "display_name": "Walk In",
        },
    )
    problem(response, 403, "registration_closed")
    assert await counts(container) == before
