"""User administration: create, list with filters, change, deactivate and activate members."""

from __future__ import annotations

import uuid
from typing import Any

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
)
from tests.integration.audit.audit_support import all_events

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role
from clinvault.models.identity import User

URL = "/api/users/"
STRONG = "a long enough passphrase for tests"


async def user_count(container: Container) -> int:
    async with container.db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(User)) or 0)


def new_member(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "email": f"member-{uuid.uuid4().hex[:8]}@example.org",
        "password": STRONG,
        "display_name": "New Member",
        "roles": ["clerk"],
    }
    body.update(changes)
    return body


async def test_an_org_admin_creates_a_member_who_can_sign_in(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    _, headers = await signed_in(client, container, org, roles=[Role.ORG_ADMIN])
    body = new_member(email="  Front.Desk@Example.org ", roles=["clerk", "nurse", "clerk"])

    created = await client.post(URL, json=body, headers=headers)

    assert created.status_code == 201, created.text
    user = created.json()
    assert user["email"] == "front.desk@example.org"
    assert (user["organization_id"], user["organization_name"]) == (str(org.id), org.name)
    assert (user["roles"], user["is_active"], user["display_name"]) == (
        ["clerk", "nurse"],
        True,
        "New Member",
    )
    assert "password" not in str(user)
    tokens = await login(client, "front.desk@example.org", STRONG)
    assert tokens["user"]["id"] == user["id"]
    [event] = [e for e in await all_events(container) if e.action == "users.create"]
    assert (event.resource_type, event.resource_id, event.outcome) == (
        "user",
        user["id"],
        "success",
    )
    assert "front.desk" not in str(event.detail)


@pytest.mark.parametrize(
    ("changes", "status", "code"),
    [
        ({"password": "short"}, 422, "password_too_weak"),
        ({"roles": ["admin"]}, 403, "role_not_allowed"),
        ({"roles": ["clerk", "admin"]}, 403, "role_not_allowed"),
        ({"roles": []}, 422, "request_invalid"),
        ({"roles": ["wizard"]}, 422, "request_invalid"),
        ({"email": "not-an-email"}, 422, "request_invalid"),
        ({"display_name": "   "}, 422, "request_invalid"),
        ({"organization_id": "00000000-0000-7000-8000-000000000001"}, 422, "request_invalid"),
        ({"is_active": False}, 422, "request_invalid"),
    ],
)
async def test_a_bad_new_member_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient,
    container: Container,
    changes: dict[str, Any],
    status: int,
    code: str,
) -> None:
    org = await create_org(container)
    _, headers = await signed_in(client, container, org, roles=[Role.ORG_ADMIN])
    before = await user_count(container)
    problem(await client.post(URL, json=new_member(**changes), headers=headers), status, code)
    assert await user_count(container) == before


async def test_an_email_in_use_anywhere_is_a_409(
    client: httpx.AsyncClient, container: Container
) -> None:
    org, other = await create_org(container), await create_org(container)
    _, headers = await signed_in(client, container, org, roles=[Role.ORG_ADMIN])
    elsewhere = await create_user(container, other, roles=[Role.DOCTOR])
    body = problem(
        await client.post(URL, json=new_member(email=elsewhere.email.upper()), headers=headers),
        409,
        "email_unavailable",
    )
    assert "another address" in body["detail"]


@pytest.mark.parametrize("role", [Role.CLERK, Role.DOCTOR, Role.PATIENT])
async def test_only_administrators_create_members(
    client: httpx.AsyncClient, container: Container, role: Role
) -> None:
    org = await create_org(container)
    _, headers = await signed_in(client, container, org, roles=[role])
    before = await user_count(container)
    problem(await client.post(URL, json=new_member(), headers=headers), 403, "permission_denied")
    assert await user_count(container) == before


async def test_the_list_filters_by_role_activity_and_email(
    client: httpx.AsyncClient, container: Container
) -> None:
    org, other = await create_org(container), await create_org(container)
    admin, headers = await signed_in(
        client, container, org, roles=[Role.ORG_ADMIN], email="boss@clinic.example"
    )
    nurse = await create_user(container, org, roles=[Role.NURSE], email="ann@clinic.example")
    both = await create_user(
        container, org, roles=[Role.NURSE, Role.DOCTOR], email="bo_b@clinic.example"
    )
    gone = await create_user(container, org, roles=[Role.CLERK], email="cy@clinic.example")
    await create_user(container, other, roles=[Role.NURSE], email="ann@other.example")
    assert (await client.post(f"/api/users/{gone.id}/deactivate", headers=headers)).is_success

    async def ids(**params: str) -> list[str]:
        response = await client.get(URL, headers=headers, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["total"] == len(page["items"])
        return [item["id"] for item in page["items"]]

    assert await ids(role="nurse") == [str(nurse.id), str(both.id)]
    assert await ids(role="doctor") == [str(both.id)]
    assert await ids(role="admin") == []
    assert await ids(role="org_admin") == [str(admin.id)]
    assert await ids(active="false") == [str(gone.id)]
    assert len(await ids(active="true")) == 3
    assert await ids(q="ANN@") == [str(nurse.id)]
    assert await ids(q="o_b") == [str(both.id)]
    assert await ids(q="%") == []
    assert await ids(q="clinic", role="nurse", active="true") == [str(nurse.id), str(both.id)]
    problem(
        await client.get(URL, headers=headers, params={"role": "wizard"}), 422, "request_invalid"
    )
    problem(
        await client.get(URL, headers=headers, params={"active": "maybe"}), 422, "request_invalid"
    )
    problem(await client.get(URL, headers=headers, params={"q": "x" * 321}), 422, "request_invalid")


async def test_only_platform_admins_choose_the_organization(
    client: httpx.AsyncClient, container: Container
) -> None:
    org, other = await create_org(container), await create_org(container)
    _, headers = await signed_in(client, container, org, roles=[Role.ORG_ADMIN])
    member = await create_user(container, other, roles=[Role.NURSE])
    problem(
        await client.get(URL, headers=headers, params={"organization_id": str(other.id)}),
        404,
        "organization_not_found",
    )
    platform = await create_platform_admin(container)
    platform_headers = auth_headers((await login(client, platform.email))["access_token"])
    page = await client.get(
        URL, headers=platform_headers, params={"organization_id": str(other.id), "role": "nurse"}
    )
    assert [item["id"] for item in page.json()["items"]] == [str(member.id)]
    roles = await client.get("/api/users/roles", headers=platform_headers)
    assert "admin" in {role["name"] for role in roles.json()}


async def test_put_changes_name_and_roles_only(
    client: httpx.AsyncClient, container: Container
) -> None:
    org, other = await create_org(container), await create_org(container)
    _, headers = await signed_in(client, container, org, roles=[Role.ORG_ADMIN])
    nurse = await create_user(container, org, roles=[Role.NURSE])
    stranger = await create_user(container, other, roles=[Role.NURSE])

    changed = await client.put(
        f"/api/users/{nurse.id}",
        json={"display_name": " Head Nurse ", "roles": ["nurse", "clerk"]},
        headers=headers,
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["display_name"], changed.json()["roles"]) == (
        "Head Nurse",
        ["nurse", "clerk"],
    )
    reread = (await client.get(f"/api/users/{nurse.id}", headers=headers)).json()
    assert reread["roles"] == ["nurse", "clerk"]
    for body, status, code in [
        ({"is_active": False}, 422, "request_invalid"),
        ({"email": "new@example.org"}, 422, "request_invalid"),
        ({"roles": ["admin"]}, 403, "role_not_allowed"),
        ({"roles": []}, 422, "request_invalid"),
    ]:
        problem(
            await client.put(f"/api/users/{nurse.id}", json=body, headers=headers), status, code
        )
    reread = (await client.get(f"/api/users/{nurse.id}", headers=headers)).json()
    assert (reread["roles"], reread["is_active"]) == (["nurse", "clerk"], True)
    problem(
        await client.put(f"/api/users/{stranger.id}", json={"display_name": "x"}, headers=headers),
        404,
        "user_not_found",
    )
    nurse_headers = auth_headers((await login(client, nurse.email))["access_token"])
    problem(
        await client.put(
            f"/api/users/{nurse.id}", json={"roles": ["org_admin"]}, headers=nurse_headers
        ),
        403,
        "permission_denied",
    )


async def test_deactivation_ends_sessions_and_activation_restores_sign_in(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    _, headers = await signed_in(client, container, org, roles=[Role.ORG_ADMIN])
    doctor = await create_user(container, org, roles=[Role.DOCTOR])
    tokens = await login(client, doctor.email)
    doctor_headers = auth_headers(tokens["access_token"])
    assert (await client.get("/api/auth/profile", headers=doctor_headers)).status_code == 200

    off = await client.post(f"/api/users/{doctor.id}/deactivate", headers=headers)
    assert off.status_code == 200, off.text
    assert off.json()["is_active"] is False
    again = await client.post(f"/api/users/{doctor.id}/deactivate", headers=headers)
    assert again.json()["is_active"] is False

    assert (await client.get("/api/auth/profile", headers=doctor_headers)).status_code == 401
    refreshed = await client.post(
        "/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    problem(refreshed, 401, "token_invalid")
    signin = {"username": doctor.email, "password": DEFAULT_PASSWORD}
    problem(await client.post("/api/auth/login", json=signin), 403, "account_disabled")

    on = await client.post(f"/api/users/{doctor.id}/activate", headers=headers)
    assert on.status_code == 200, on.text
    assert on.json()["is_active"] is True
    await login(client, doctor.email)
    problem(
        await client.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}),
        401,
        "token_invalid",
    )
    actions = [e.action for e in await all_events(container) if e.resource_id == str(doctor.id)]
    assert {"users.deactivate", "users.activate"} <= set(actions)


async def test_deactivation_is_refused_for_yourself_strangers_and_non_admins(
    client: httpx.AsyncClient, container: Container
) -> None:
    org, other = await create_org(container), await create_org(container)
    admin, headers = await signed_in(client, container, org, roles=[Role.ORG_ADMIN])
    clerk, clerk_headers = await signed_in(client, container, org, roles=[Role.CLERK])
    stranger = await create_user(container, other, roles=[Role.ORG_ADMIN])

    body = problem(
        await client.post(f"/api/users/{admin.id}/deactivate", headers=headers),
        409,
        "self_deactivation_refused",
    )
    assert "another organization administrator" in body["detail"]
    for action in ("deactivate", "activate"):
        problem(
            await client.post(f"/api/users/{stranger.id}/{action}", headers=headers),
            404,
            "user_not_found",
        )
        problem(
            await client.post(f"/api/users/{admin.id}/{action}", headers=clerk_headers),
            403,
            "permission_denied",
        )
    problem(
        await client.post("/api/users/not-a-uuid/deactivate", headers=headers),
        422,
        "request_invalid",
    )
    assert (await client.get("/api/auth/profile", headers=headers)).status_code == 200
    listing = (await client.get(URL, headers=headers, params={"active": "true"})).json()
    assert {item["id"] for item in listing["items"]} == {str(admin.id), str(clerk.id)}


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
async def test_the_last_org_admin_cannot_drop_their_own_role(
    client: httpx.AsyncClient, container: Container, method: str
) -> None:
    org = await create_org(container)
    admin, headers = await signed_in(client, container, org, roles=[Role.ORG_ADMIN, Role.DOCTOR])
    second = await create_user(container, org, roles=[Role.ORG_ADMIN])
    off = await client.post(f"/api/users/{second.id}/deactivate", headers=headers)
    assert off.status_code == 200

    body = problem(
        await client.request(
            method, f"/api/users/{admin.id}", json={"roles": ["doctor"]}, headers=headers
        ),
        409,
        "last_org_admin_required",
    )
    assert "another member" in body["detail"]
    assert (await client.get(f"/api/users/{admin.id}", headers=headers)).json()["roles"] == [
        "org_admin",
        "doctor",
    ]

    assert (await client.post(f"/api/users/{second.id}/activate", headers=headers)).is_success
    dropped = await client.request(
        method, f"/api/users/{admin.id}", json={"roles": ["doctor"]}, headers=headers
    )
    assert dropped.status_code == 200, dropped.text
    assert dropped.json()["roles"] == ["doctor"]
