"""GET /api/audit/suspicious: findings from real requests and from recorded history."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import httpx
import pytest
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
from tests.integration.audit.shifted_events import record_events

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role

URL = "/api/audit/suspicious"
DAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=2)
PAST_DAY = {"from": DAY.isoformat(), "to": (DAY + timedelta(days=1)).isoformat()}
CLIENT_IP = "203.0.113.7"  # the test client's address


async def report(
    client: httpx.AsyncClient, headers: dict[str, str], **params: str
) -> dict[str, Any]:
    response = await client.get(URL, headers=headers, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["truncated"] is False
    return body


def of_kind(body: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [finding for finding in body["findings"] if finding["kind"] == kind]


async def test_a_burst_of_failed_sign_ins_is_found_by_account_and_address(
    client: httpx.AsyncClient, container: Container
) -> None:
    org, other = await create_org(container), await create_org(container)
    _, admin = await signed_in(client, container, org, roles=[Role.ORG_ADMIN])
    _, other_admin = await signed_in(client, container, other, roles=[Role.ORG_ADMIN])
    target = await create_user(container, org, roles=[Role.NURSE])
    for _ in range(5):
        wrong = {"username": target.email, "password": "not the password at all"}
        assert (await client.post("/api/auth/login", json=wrong)).status_code == 401

    body = await report(client, admin)

    [by_account] = of_kind(body, "failed_logins_by_actor")
    assert (by_account["actor_id"], by_account["count"]) == (str(target.id), 5)
    assert by_account["client_ip"] is None
    assert datetime.fromisoformat(by_account["first_at"]) <= datetime.fromisoformat(
        by_account["last_at"]
    )
    assert "5 failed sign-ins" in by_account["detail"]
    assert target.email not in by_account["detail"]
    [by_address] = of_kind(body, "failed_logins_by_ip")
    assert (by_address["actor_id"], by_address["client_ip"]) == (None, CLIENT_IP)
    assert by_address["count"] == 5
    elsewhere = await report(client, other_admin)
    assert of_kind(elsewhere, "failed_logins_by_actor") == []
    assert of_kind(elsewhere, "failed_logins_by_ip") == []


async def test_a_member_probing_refused_routes_is_a_denied_burst(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    _, admin = await signed_in(client, container, org, roles=[Role.ORG_ADMIN])
    clerk, clerk_headers = await signed_in(client, container, org, roles=[Role.CLERK])
    problem(await client.get(URL, headers=clerk_headers), 403, "permission_denied")
    for _ in range(6):
        await client.get("/api/audit/logs", headers=clerk_headers)
    for index in range(3):
        missing = f"/api/users/00000000-0000-7000-8000-00000000000{index}"
        problem(await client.get(missing, headers=clerk_headers), 404, "user_not_found")

    [burst] = of_kind(await report(client, admin), "denied_burst")
    assert (burst["actor_id"], burst["count"]) == (str(clerk.id), 10)
    assert "403/404" in burst["detail"]


async def test_reading_many_distinct_records_is_a_mass_read(
    client: httpx.AsyncClient, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(container.settings.audit, "mass_read_threshold", 3)
    org = await create_org(container)
    admin, admin_headers = await signed_in(client, container, org, roles=[Role.ORG_ADMIN])
    members = [await create_user(container, org, roles=[Role.CLERK]) for _ in range(3)]
    for member in members[:2]:
        for _ in range(3):
            assert (await client.get(f"/api/users/{member.id}", headers=admin_headers)).is_success
    assert of_kind(await report(client, admin_headers), "mass_reads") == []
    assert (await client.get(f"/api/users/{members[2].id}", headers=admin_headers)).is_success

    [mass] = of_kind(await report(client, admin_headers), "mass_reads")
    assert (mass["actor_id"], mass["count"]) == (str(admin.id), 3)
    assert "3 distinct records read (7 reads)" in mass["detail"]
    assert all(str(member.id) not in mass["detail"] for member in members)


async def test_recorded_exports_and_history_are_examined_in_the_window(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    _, admin = await signed_in(client, container, org, roles=[Role.ORG_ADMIN])
    doctor = await create_user(container, org, roles=[Role.DOCTOR])
    noon = DAY.replace(hour=12)
    await record_events(
        container,
        [noon, noon + timedelta(minutes=20), noon + timedelta(minutes=50)],
        action="patients.export",
        actor_id=doctor.id,
        organization_id=org.id,
    )
    patients = [f"patient-{n}" for n in range(50)]
    await record_events(
        container,
        [noon + timedelta(seconds=5 * n) for n in range(50)],
        action="patients.read",
        actor_id=doctor.id,
        organization_id=org.id,
        resource_type="patient",
        resource_ids=patients,
    )

    body = await report(client, admin, **PAST_DAY)

    assert [(f["kind"], f["actor_id"], f["count"]) for f in body["findings"]] == [
        ("exports", str(doctor.id), 3),
        ("mass_reads", str(doctor.id), 50),
    ]
    assert body["findings"][0]["first_at"].startswith(noon.strftime("%Y-%m-%dT12:00:00"))
    today = await report(client, admin)
    assert of_kind(today, "exports") == of_kind(today, "mass_reads") == []


async def test_activity_outside_business_hours_in_the_configured_zone(
    client: httpx.AsyncClient, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = await create_org(container)
    _, admin = await signed_in(client, container, org, roles=[Role.ORG_ADMIN])
    night_owl = await create_user(container, org, roles=[Role.NURSE])
    day_worker = await create_user(container, org, roles=[Role.CLERK])
    night = [DAY.replace(hour=2, minute=m) for m in (0, 10, 50)]
    await record_events(
        container, night, action="auth.profile", actor_id=night_owl.id, organization_id=org.id
    )
    await record_events(
        container,
        [DAY.replace(hour=12), DAY.replace(hour=18, minute=59)],
        action="auth.profile",
        actor_id=day_worker.id,
        organization_id=org.id,
    )

    [finding] = (await report(client, admin, **PAST_DAY))["findings"]
    assert (finding["kind"], finding["actor_id"], finding["count"]) == (
        "outside_hours",
        str(night_owl.id),
        3,
    )
    assert datetime.fromisoformat(finding["first_at"]) == night[0]
    assert datetime.fromisoformat(finding["last_at"]) == night[-1]
    assert "07:00-19:00 UTC" in finding["detail"]

    monkeypatch.setattr(container.settings.audit, "timezone", "Asia/Tokyo")  # UTC+9
    monkeypatch.setattr(container.settings.audit, "business_hours_start", time(8, 0))
    monkeypatch.setattr(container.settings.audit, "business_hours_end", time(18, 0))
    [finding] = (await report(client, admin, **PAST_DAY))["findings"]
    assert (finding["actor_id"], finding["count"]) == (str(day_worker.id), 2)
    assert "08:00-18:00 Asia/Tokyo" in finding["detail"]


async def test_scope_follows_the_principal(client: httpx.AsyncClient, container: Container) -> None:
    org_a, org_b = await create_org(container), await create_org(container)
    _, admin_a = await signed_in(client, container, org_a, roles=[Role.ORG_ADMIN])
    nurse_b = await create_user(container, org_b, roles=[Role.NURSE])
    await record_events(
        container,
        [DAY.replace(hour=3)],
        action="auth.profile",
        actor_id=nurse_b.id,
        organization_id=org_b.id,
    )
    platform = await create_platform_admin(container)
    headers = auth_headers((await login(client, platform.email, DEFAULT_PASSWORD))["access_token"])

    assert (await report(client, admin_a, **PAST_DAY))["findings"] == []
    everyone = await report(client, headers, **PAST_DAY)
    assert everyone["organization_id"] is None
    assert [f["actor_id"] for f in everyone["findings"]] == [str(nurse_b.id)]
    only_b = await report(client, headers, organization_id=str(org_b.id), **PAST_DAY)
    assert [f["actor_id"] for f in only_b["findings"]] == [str(nurse_b.id)]
    problem(
        await client.get(URL, headers=admin_a, params={"organization_id": str(org_b.id)}),
        404,
        "not_found",
    )


@pytest.mark.parametrize("role", [Role.CLERK, Role.DOCTOR, Role.PHARMACIST])
async def test_other_roles_are_refused(
    client: httpx.AsyncClient, container: Container, role: Role
) -> None:
    org = await create_org(container)
    _, headers = await signed_in(client, container, org, roles=[role])
    problem(await client.get(URL, headers=headers), 403, "permission_denied")
    problem(await client.get(URL), 401, "authentication_required")


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"from": "2024-05-01"}, "request_invalid"),
        ({"from": "2024-13-01T00:00:00Z"}, "request_invalid"),
        ({"from": "2024-05-03T00:00:00Z", "to": "2024-05-01T00:00:00Z"}, "request_invalid"),
        ({"from": "2024-01-01T00:00:00Z", "to": "2024-03-01T00:00:00Z"}, "audit_window_too_large"),
        ({"from": "x" * 65}, "request_invalid"),
    ],
)
async def test_bad_windows_are_a_422(
    client: httpx.AsyncClient, container: Container, params: dict[str, str], code: str
) -> None:
    org = await create_org(container)
    _, headers = await signed_in(client, container, org, roles=[Role.ORG_ADMIN])
    body = problem(await client.get(URL, headers=headers, params=params), 422, code)
    assert body["errors"]
