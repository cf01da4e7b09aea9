"""GET /api/audit/logs: tenant scoping, filters, pagination and input errors."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from tests.factories import (
    auth_headers,
    create_org,
    create_platform_admin,
    login,
    problem,
    signed_in,
)
from tests.integration.audit.audit_support import all_events

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role
from clinvault.models import User
from clinvault.models.identity import Organization

URL = "/api/audit/logs"


@dataclass
class Tenants:
    org_a: Organization
    org_b: Organization
    admin_a: User
    admin_b: User
    platform: User
    doctor_a: User
    headers_a: dict[str, str]
    headers_b: dict[str, str]
    headers_platform: dict[str, str]
    headers_doctor: dict[str, str]


@pytest.fixture
async def tenants(client: httpx.AsyncClient, container: Container) -> Tenants:
    org_a, org_b = await create_org(container), await create_org(container)
    admin_a, headers_a = await signed_in(client, container, org_a, roles=[Role.ORG_ADMIN])
    admin_b, headers_b = await signed_in(client, container, org_b, roles=[Role.ORG_ADMIN])
    doctor_a, headers_doctor = await signed_in(client, container, org_a, roles=[Role.DOCTOR])
    platform = await create_platform_admin(container)
    headers_platform = auth_headers((await login(client, platform.email))["access_token"])
    for headers in (headers_a, headers_b, headers_doctor):
        assert (await client.get("/api/auth/profile", headers=headers)).status_code == 200
    return Tenants(
        org_a,
        org_b,
        admin_a,
        admin_b,
        platform,
        doctor_a,
        headers_a,
        headers_b,
        headers_platform,
        headers_doctor,
    )


async def page(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = await client.get(URL, headers=headers, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def organizations(items: Iterable[dict[str, Any]]) -> set[str | None]:
    return {item["organization_id"] for item in items}


async def test_an_org_admin_sees_only_their_organization(
    client: httpx.AsyncClient, container: Container, tenants: Tenants
) -> None:
    expected = [e for e in await all_events(container) if e.organization_id == tenants.org_a.id]
    body = await page(client, tenants.headers_a, limit=500)
    assert organizations(body["items"]) == {str(tenants.org_a.id)}
    assert body["total"] == len(expected) == len(body["items"])
    assert {item["actor_id"] for item in body["items"]} == {
        str(tenants.admin_a.id),
        str(tenants.doctor_a.id),
    }
    item = body["items"][0]
    assert set(item) >= {"seq", "id", "occurred_at", "request_id", "action", "outcome"}
    assert isinstance(item["actor_roles"], list)
    assert "mac" not in item


async def test_an_org_admin_cannot_name_another_organization(
    client: httpx.AsyncClient, tenants: Tenants
) -> None:
    own = await page(client, tenants.headers_a, organization_id=str(tenants.org_a.id))
    assert organizations(own["items"]) == {str(tenants.org_a.id)}
    response = await client.get(
        URL, headers=tenants.headers_a, params={"organization_id": str(tenants.org_b.id)}
    )
    problem(response, 404, "not_found")


async def test_a_platform_admin_sees_every_organization_and_may_narrow(
    client: httpx.AsyncClient, tenants: Tenants
) -> None:
    everything = await page(client, tenants.headers_platform, limit=500)
    seen = organizations(everything["items"])
    assert {str(tenants.org_a.id), str(tenants.org_b.id)} <= seen
    only_b = await page(client, tenants.headers_platform, organization_id=str(tenants.org_b.id))
    assert organizations(only_b["items"]) == {str(tenants.org_b.id)}
    assert only_b["total"] < everything["total"]


@pytest.mark.parametrize("role", [Role.DOCTOR, Role.NURSE, Role.PATIENT, Role.PHARMACIST])
async def test_other_roles_are_refused(
    client: httpx.AsyncClient, container: Container, tenants: Tenants, role: Role
) -> None:
    _, headers = await signed_in(client, container, tenants.org_a, roles=[role])
    problem(await client.get(URL, headers=headers), 403, "permission_denied")


async def test_reading_the_log_requires_a_token(client: httpx.AsyncClient) -> None:
    problem(await client.get(URL), 401, "authentication_required")


async def test_newest_first_and_pagination(client: httpx.AsyncClient, tenants: Tenants) -> None:
    headers, org_a = tenants.headers_platform, str(tenants.org_a.id)
    full = await page(client, headers, organization_id=org_a, limit=500)
    stamps = [(item["occurred_at"], item["seq"]) for item in full["items"]]
    assert stamps == sorted(stamps, reverse=True)
    first = await page(client, headers, organization_id=org_a, limit=2, offset=0)
    second = await page(client, headers, organization_id=org_a, limit=2, offset=2)
    assert [item["id"] for item in first["items"] + second["items"]] == [
        item["id"] for item in full["items"][:4]
    ]
    assert (first["limit"], first["offset"], second["offset"]) == (2, 0, 2)
    assert len(first["items"]) == len(second["items"]) == 2
    assert first["total"] == second["total"] >= 4
    first_ids = {item["id"] for item in first["items"]}
    assert first_ids.isdisjoint(item["id"] for item in second["items"])
    beyond = await page(client, headers, organization_id=org_a, offset=10_000)
    assert beyond["items"] == []
    assert beyond["total"] == first["total"]


async def test_filters_narrow_the_log(client: httpx.AsyncClient, tenants: Tenants) -> None:
    await client.get(URL, headers=tenants.headers_doctor)
    headers = tenants.headers_a
    by_actor = await page(client, headers, actor_id=str(tenants.doctor_a.id), limit=500)
    assert {item["actor_id"] for item in by_actor["items"]} == {str(tenants.doctor_a.id)}
    logins = await page(client, headers, action="auth.", limit=500)
    assert logins["items"]
    assert all(item["action"].startswith("auth.") for item in logins["items"])
    assert {"auth.login", "auth.profile"} <= {item["action"] for item in logins["items"]}
    denied = await page(client, headers, outcome="denied", status_code=403)
    assert [(i["action"], i["actor_id"]) for i in denied["items"]] == [
        ("audit.logs.list", str(tenants.doctor_a.id))
    ]
    by_resource = await page(client, headers, resource_type="audit_log")
    assert {item["resource_type"] for item in by_resource["items"]} == {"audit_log"}
    literal = await page(client, headers, action="auth%")
    assert literal["total"] == 0


async def test_time_window(client: httpx.AsyncClient, tenants: Tenants) -> None:
    headers = tenants.headers_a
    everything = await page(client, headers, limit=500)
    newest = datetime.fromisoformat(everything["items"][0]["occurred_at"])
    later = await page(client, headers, since=(newest + timedelta(seconds=1)).isoformat())
    assert later["total"] == 0
    window = await page(
        client,
        headers,
        since=(newest - timedelta(hours=1)).isoformat(),
        until=(newest + timedelta(microseconds=1)).isoformat(),
        limit=500,
    )
    assert window["total"] == everything["total"]
    upto = await page(client, headers, until=newest.astimezone(UTC).isoformat(), limit=500)
    assert upto["total"] < everything["total"]
    zulu = await page(client, headers, since="2000-01-01T00:00:00Z")
    assert zulu["total"] == everything["total"] + 4


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("2024-05-01T00:00:00", "no time zone"),
        ("2024-05-01", "no time zone"),
        ("last tuesday", "is not a date"),
        ("2024-02-30T00:00:00Z", "is not a date"),
    ],
)
async def test_a_naive_or_malformed_date_is_a_422_naming_the_format(
    client: httpx.AsyncClient, tenants: Tenants, value: str, reason: str
) -> None:
    response = await client.get(URL, headers=tenants.headers_a, params={"since": value})
    body = problem(response, 422, "request_invalid")
    assert "timezone-aware ISO 8601" in body["detail"]
    assert "2024-05-01T00:00:00Z" in body["detail"]
    assert reason in body["detail"]
    assert body["errors"][0]["field"] == "since"


async def test_an_empty_window_is_refused(client: httpx.AsyncClient, tenants: Tenants) -> None:
    params = {"since": "2024-05-02T00:00:00Z", "until": "2024-05-01T00:00:00Z"}
    response = await client.get(URL, headers=tenants.headers_a, params=params)
    problem(response, 422, "request_invalid")


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 501},
        {"offset": -1},
        {"status_code": 99},
        {"outcome": "maybe"},
        {"actor_id": "not-a-uuid"},
        {"organization_id": str(uuid.uuid4())[:8]},
    ],
)
async def test_out_of_range_parameters_are_a_422(
    client: httpx.AsyncClient, tenants: Tenants, params: dict[str, Any]
) -> None:
    response = await client.get(URL, headers=tenants.headers_a, params=params)
    problem(response, 422, "request_invalid")
