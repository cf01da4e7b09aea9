"""Organizations and user administration across tenants: 404 outside, 403 inside."""

from __future__ import annotations

import httpx
from tests.factories import (
    auth_headers,
    create_org,
    create_platform_admin,
    create_user,
    login,
    problem,
    signed_in,
)

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role
from clinvault.identity.roles import ROLES_BY_ORGANIZATION_KIND


async def test_platform_admin_creates_and_lists_organizations(
    client: httpx.AsyncClient, container: Container
) -> None:
    admin = await create_platform_admin(container)
    headers = auth_headers((await login(client, admin.email))["access_token"])
    body = {"name": "Northside Pharmacy", "slug": "northside", "kind": "pharmacy"}
    created = await client.post("/api/organizations", json=body, headers=headers)
    assert created.status_code == 201, created.text
    org = created.json()
    assert org["kind"] == "pharmacy"
    assert org["allow_patient_registration"] is False
    problem(
        await client.post("/api/organizations", json=body, headers=headers),
        409,
        "organization_slug_taken",
    )
    problem(
        await client.post(
            "/api/organizations",
            json={**body, "slug": "other", "kind": "platform"},
            headers=headers,
        ),
        422,
        "request_invalid",
    )
    listing = await client.get("/api/organizations", headers=headers)
    assert {o["slug"] for o in listing.json()} >= {"northside"}
    assert len(listing.json()) == 2
    read = await client.get(f"/api/organizations/{org['id']}", headers=headers)
    assert read.status_code == 200
    assert read.json()["name"] == "Northside Pharmacy"


async def test_members_see_only_their_own_organization(
    client: httpx.AsyncClient, container: Container
) -> None:
    org_a = await create_org(container)
    org_b = await create_org(container)
    _, headers = await signed_in(client, container, org_a, roles=[Role.ORG_ADMIN])
    listing = await client.get("/api/organizations", headers=headers)
    assert [o["id"] for o in listing.json()] == [str(org_a.id)]
    assert (await client.get(f"/api/organizations/{org_a.id}", headers=headers)).status_code == 200
    problem(
        await client.get(f"/api/organizations/{org_b.id}", headers=headers),
        404,
        "organization_not_found",
    )
    problem(
        await client.post(
            "/api/organizations",
            json={"name": "X", "slug": "xx", "kind": "provider"},
            headers=headers,
        ),
        403,
        "permission_denied",
    )


async def test_cross_tenant_users_are_not_found_and_peers_are_forbidden(
    client: httpx.AsyncClient, container: Container
) -> None:
    org_a = await create_org(container)
    org_b = await create_org(container)
    _, admin_a = await signed_in(client, container, org_a, roles=[Role.ORG_ADMIN])
    nurse, nurse_headers = await signed_in(client, container, org_a, roles=[Role.NURSE])
    doctor_a = await create_user(container, org_a, roles=[Role.DOCTOR])
    user_b = await create_user(container, org_b, roles=[Role.DOCTOR])

    problem(await client.get(f"/api/users/{user_b.id}", headers=admin_a), 404, "user_not_found")
    read = await client.get(f"/api/users/{doctor_a.id}", headers=admin_a)
    assert read.status_code == 200
    assert read.json()["organization_name"] == org_a.name
    problem(
        await client.get(f"/api/users/{doctor_a.id}", headers=nurse_headers),
        403,
        "permission_denied",
    )
    own = await client.get(f"/api/users/{nurse.id}", headers=nurse_headers)
    assert own.status_code == 200
    problem(await client.get("/api/users/", headers=nurse_headers), 403, "permission_denied")
    problem(
        await client.patch(
            f"/api/users/{user_b.id}", json={"display_name": "Hijacked"}, headers=admin_a
        ),
        404,
        "user_not_found",
    )


async def test_org_admin_lists_and_pages_own_members(
    client: httpx.AsyncClient, container: Container
) -> None:
    org_a = await create_org(container)
    org_b = await create_org(container)
    _, headers = await signed_in(client, container, org_a, roles=[Role.ORG_ADMIN])
    for _ in range(3):
        await create_user(container, org_a, roles=[Role.CLERK])
    await create_user(container, org_b, roles=[Role.CLERK])
    page = (await client.get("/api/users/?limit=2&offset=0", headers=headers)).json()
    assert page["total"] == 4
    assert page["limit"] == 2
    assert len(page["items"]) == 2
    rest = (await client.get("/api/users/?limit=2&offset=2", headers=headers)).json()
    seen = {u["id"] for u in page["items"]} | {u["id"] for u in rest["items"]}
    assert len(seen) == 4
    assert {u["organization_id"] for u in page["items"] + rest["items"]} == {str(org_a.id)}
    problem(
        await client.get(f"/api/users/?organization_id={org_b.id}", headers=headers),
        404,
        "organization_not_found",
    )
    problem(await client.get("/api/users/?limit=0", headers=headers), 422, "request_invalid")


async def test_platform_admin_lists_every_tenant_or_one(
    client: httpx.AsyncClient, container: Container
) -> None:
    admin = await create_platform_admin(container)
    headers = auth_headers((await login(client, admin.email))["access_token"])
    org_b = await create_org(container)
    user_b = await create_user(container, org_b, roles=[Role.PHARMACIST])
    everyone = (await client.get("/api/users/", headers=headers)).json()
    assert everyone["total"] == 2
    only_b = (await client.get(f"/api/users/?organization_id={org_b.id}", headers=headers)).json()
    assert [u["id"] for u in only_b["items"]] == [str(user_b.id)]
    assert (await client.get(f"/api/users/{user_b.id}", headers=headers)).status_code == 200


async def test_org_admin_updates_members_within_the_rules(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    admin, headers = await signed_in(client, container, org, roles=[Role.ORG_ADMIN])
    nurse = await create_user(container, org, roles=[Role.NURSE])
    changed = await client.patch(
        f"/api/users/{nurse.id}",
        json={"display_name": "  Nurse Joy ", "roles": ["doctor", "nurse", "doctor"]},
        headers=headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["display_name"] == "Nurse Joy"
    assert changed.json()["roles"] == ["doctor", "nurse"]
    problem(
        await client.patch(f"/api/users/{nurse.id}", json={"roles": ["admin"]}, headers=headers),
        403,
        "role_not_allowed",
    )
    problem(
        await client.patch(f"/api/users/{nurse.id}", json={"roles": ["wizard"]}, headers=headers),
        422,
        "request_invalid",
    )
    problem(
        await client.patch(f"/api/users/{admin.id}", json={"is_active": False}, headers=headers),
        409,
        "self_deactivation_refused",
    )
    problem(
        await client.patch(
            f"/api/users/{nurse.id}", json={"email": "x@example.org"}, headers=headers
        ),
        422,
        "request_invalid",
    )
    nurse_headers = auth_headers((await login(client, nurse.email))["access_token"])
    problem(
        await client.patch(
            f"/api/users/{admin.id}", json={"display_name": "x"}, headers=nurse_headers
        ),
        403,
        "permission_denied",
    )


async def test_roles_are_listed_with_descriptions(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    _, headers = await signed_in(client, container, org, roles=[Role.PATIENT])
    roles = (await client.get("/api/users/roles", headers=headers)).json()
    names = [role["name"] for role in roles]
    assert "admin" not in names
    assert set(names) == set(ROLES_BY_ORGANIZATION_KIND["provider"])
    assert "pharmacist" not in names
    assert all(role["description"] for role in roles)
    pharmacy = await create_org(container, kind="pharmacy")
    _, headers = await signed_in(client, container, pharmacy, roles=[Role.PHARMACIST])
    roles = (await client.get("/api/users/roles", headers=headers)).json()
    assert {role["name"] for role in roles} == {"org_admin", "pharmacist"}
