"""The records-platform design's own-account API: PUT /api/auth/profile, change-password."""

from __future__ import annotations

import httpx
from tests.factories import DEFAULT_PASSWORD, create_org, login, problem, signed_in

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role


async def test_profile_update_sets_name_phone_and_time_zone(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    _, headers = await signed_in(client, container, org, roles=[Role.NURSE])
    body = {
        "first_name": "Florence",
        "last_name": "Nightingale",
        "phone": "(617) 555-0142",
        "time_zone": "Europe/London",
    }
    response = await client.put("/api/auth/profile", json=body, headers=headers)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["display_name"] == "Florence Nightingale"
    assert updated["phone"] == "+16175550142"
    assert updated["time_zone"] == "Europe/London"
    again = await client.get("/api/auth/profile", headers=headers)
    assert again.json()["phone"] == "+16175550142"


async def test_profile_refuses_short_phone_unknown_zone_and_admin_fields(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    _, headers = await signed_in(client, container, org, roles=[Role.CLERK])
    short = await client.put("/api/auth/profile", json={"phone": "+1-555-1234"}, headers=headers)
    assert problem(short, 422, "request_invalid")["errors"][0]["field"] == "phone"
    zone = await client.put(
        "/api/auth/profile", json={"time_zone": "Mars/Olympus"}, headers=headers
    )
    assert problem(zone, 422, "request_invalid")["errors"][0]["field"] == "time_zone"
    for body in ({"email": "new@example.org"}, {"role": "org_admin"}):
        refused = problem(
            await client.put("/api/auth/profile", json=body, headers=headers),
            422,
            "request_invalid",
        )
        assert "administrator" in str(refused["errors"])
    anonymous = await client.put("/api/auth/profile", json={"first_name": "X"})
    assert anonymous.status_code == 401


async def test_change_password_needs_the_current_one_and_ends_sessions(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    user, headers = await signed_in(client, container, org, roles=[Role.DOCTOR])
    new = "a new and long passphrase for the ward"
    wrong = await client.post(
        "/api/auth/change-password",
        json={"current_password": "not it at all", "new_password": new},
        headers=headers,
    )
    assert problem(wrong, 422, "request_invalid")["errors"][0]["field"] == "current_password"
    weak = await client.post(
        "/api/auth/change-password",
        json={"old_password": DEFAULT_PASSWORD, "new_password": "short"},
        headers=headers,
    )
    assert weak.status_code == 422, weak.text
    changed = await client.post(
        "/api/auth/change-password",
        json={"old_password": DEFAULT_PASSWORD, "new_password": new},
        headers=headers,
    )
    assert changed.status_code == 204, changed.text
    assert (await client.get("/api/auth/profile", headers=headers)).status_code == 401
    old = await client.post(
        "/api/auth/login", json={"username": user.email, "password": DEFAULT_PASSWORD}
    )
    assert old.status_code == 401
    assert (await login(client, user.email, new))["user"]["id"] == str(user.id)


async def test_register_accepts_the_design_body_with_the_organization(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container, allow_patient_registration=True)
    body = {
        "username": "jdoe",
        "email": "jdoe@example.org",
        "password": "a long enough registration passphrase",
        "first_name": "Jane",
        "last_name": "Doe",
    }
    missing = problem(await client.post("/api/auth/register", json=body), 422, "request_invalid")
    assert '"organization"' in str(missing["errors"])
    staff = await client.post(
        "/api/auth/register", json={**body, "organization": org.slug, "role": "doctor"}
    )
    problem(staff, 403, "role_not_allowed")
    created = await client.post(
        "/api/auth/register", json={**body, "organization": org.slug, "role": "patient"}
    )
    assert created.status_code == 201, created.text
    assert created.json()["display_name"] == "Jane Doe"
    assert created.json()["roles"] == ["patient"]
