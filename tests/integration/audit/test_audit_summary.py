"""GET /api/audit/summary: counts by action, actor, outcome and hour; scope and bad input."""

from __future__ import annotations

import uuid
from collections import Counter
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
from tests.integration.audit.shifted_events import record_events

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role
from clinvault.models import User
from clinvault.models.identity import Organization

URL = "/api/audit/summary"
DAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=3)


@dataclass
class Tenants:
    org_a: Organization
    org_b: Organization
    admin_a: User
    doctor_a: User
    headers_a: dict[str, str]
    headers_b: dict[str, str]
    headers_doctor: dict[str, str]
    headers_platform: dict[str, str]


@pytest.fixture
async def tenants(client: httpx.AsyncClient, container: Container) -> Tenants:
    org_a, org_b = await create_org(container), await create_org(container)
    admin_a, headers_a = await signed_in(client, container, org_a, roles=[Role.ORG_ADMIN])
    _, headers_b = await signed_in(client, container, org_b, roles=[Role.ORG_ADMIN])
    doctor_a, headers_doctor = await signed_in(client, container, org_a, roles=[Role.DOCTOR])
    platform = await create_platform_admin(container)
    headers_platform = auth_headers((await login(client, platform.email))["access_token"])
    return Tenants(
        org_a, org_b, admin_a, doctor_a, headers_a, headers_b, headers_doctor, headers_platform
    )


async def summary(
    client: httpx.AsyncClient, headers: dict[str, str], **params: str
) -> dict[str, Any]:
    response = await client.get(URL, headers=headers, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def as_counts(rows: list[dict[str, Any]], key: str) -> dict[Any, int]:
    return {row[key]: row["count"] for row in rows}


async def test_the_last_24_hours_of_the_own_organization_by_default(
    client: httpx.AsyncClient, container: Container, tenants: Tenants
) -> None:
    await client.get("/api/audit/logs", headers=tenants.headers_doctor)
    await client.get("/api/auth/profile", headers=tenants.headers_doctor)
    own = [e for e in await all_events(container) if e.organization_id == tenants.org_a.id]

    body = await summary(client, tenants.headers_a)

    assert body["organization_id"] == str(tenants.org_a.id)
    end = datetime.fromisoformat(body["to"])
    assert end - datetime.fromisoformat(body["from"]) == timedelta(hours=24)
    assert abs(datetime.now(UTC) - end) < timedelta(minutes=1)
    assert body["total"] == len(own)
    assert as_counts(body["by_action"], "action") == dict(Counter(e.action for e in own))
    assert as_counts(body["by_actor"], "actor_id") == {
        str(actor): count for actor, count in Counter(e.actor_id for e in own).items()
    }
    assert as_counts(body["by_outcome"], "outcome") == dict(Counter(e.outcome for e in own))
    assert as_counts(body["by_outcome"], "outcome")["denied"] == 1
    counts = [row["count"] for row in body["by_action"]]
    assert counts == sorted(counts, reverse=True)
    assert len(body["per_hour"]) in (24, 25)
    assert sum(row["count"] for row in body["per_hour"]) == len(own)


async def test_hourly_buckets_and_window_edges_are_computed_in_the_database(
    client: httpx.AsyncClient, container: Container, tenants: Tenants
) -> None:
    org, doctor = tenants.org_a.id, tenants.doctor_a.id
    ten, noon = DAY.replace(hour=10), DAY.replace(hour=12)
    await record_events(
        container,
        [ten, ten + timedelta(minutes=59, seconds=59), ten + timedelta(minutes=30)],
        action="patients.read",
        actor_id=doctor,
        organization_id=org,
    )
    await record_events(
        container,
        [noon + timedelta(minutes=5)],
        action="patients.read",
        status=403,
        actor_id=doctor,
        organization_id=org,
    )
    await record_events(
        container, [noon + timedelta(minutes=6)], action="patients.list", organization_id=org
    )
    await record_events(container, [ten], action="patients.read", organization_id=tenants.org_b.id)
    await record_events(
        container,
        [DAY.replace(hour=9) - timedelta(microseconds=1), DAY.replace(hour=13)],
        action="outside.window",
        organization_id=org,
    )

    body = await summary(
        client,
        tenants.headers_a,
        **{"from": DAY.replace(hour=9).isoformat(), "to": DAY.replace(hour=13).isoformat()},
    )

    assert body["total"] == 5
    assert [(datetime.fromisoformat(row["hour"]), row["count"]) for row in body["per_hour"]] == [
        (DAY.replace(hour=h), n) for h, n in ((9, 0), (10, 3), (11, 0), (12, 2))
    ]
    assert body["by_action"] == [
        {"action": "patients.read", "count": 4},
        {"action": "patients.list", "count": 1},
    ]
    assert as_counts(body["by_actor"], "actor_id") == {str(doctor): 4, None: 1}
    assert as_counts(body["by_outcome"], "outcome") == {"success": 4, "denied": 1}


async def test_platform_admins_see_every_organization_or_one(
    client: httpx.AsyncClient, container: Container, tenants: Tenants
) -> None:
    window = {"from": DAY.isoformat(), "to": (DAY + timedelta(days=1)).isoformat()}
    await record_events(
        container, [DAY + timedelta(hours=1)], action="a.x", organization_id=tenants.org_a.id
    )
    await record_events(
        container, [DAY + timedelta(hours=2)] * 2, action="b.x", organization_id=tenants.org_b.id
    )

    everything = await summary(client, tenants.headers_platform, **window)
    assert everything["organization_id"] is None
    assert as_counts(everything["by_action"], "action") == {"a.x": 1, "b.x": 2}
    only_b = await summary(
        client, tenants.headers_platform, organization_id=str(tenants.org_b.id), **window
    )
    assert (only_b["organization_id"], only_b["total"]) == (str(tenants.org_b.id), 2)
    own_b = await summary(client, tenants.headers_b, **window)
    assert as_counts(own_b["by_action"], "action") == {"b.x": 2}
    response = await client.get(
        URL, headers=tenants.headers_a, params={"organization_id": str(tenants.org_b.id)}
    )
    problem(response, 404, "not_found")


@pytest.mark.parametrize("role", [Role.CLERK, Role.DOCTOR, Role.NURSE, Role.PATIENT])
async def test_other_roles_are_refused_and_the_refusal_is_audited(
    client: httpx.AsyncClient, container: Container, tenants: Tenants, role: Role
) -> None:
    user, headers = await signed_in(client, container, tenants.org_a, roles=[role])
    problem(await client.get(URL, headers=headers), 403, "permission_denied")
    refused = [e for e in await all_events(container) if e.action == "audit.summary"]
    assert [(e.actor_id, e.status_code) for e in refused] == [(user.id, 403)]


async def test_a_token_is_required(client: httpx.AsyncClient) -> None:
    problem(await client.get(URL), 401, "authentication_required")


@pytest.mark.parametrize(
    ("params", "code", "fragment"),
    [
        ({"from": "2024-05-01T00:00:00"}, "request_invalid", "timezone-aware"),
        ({"to": "yesterday"}, "request_invalid", "is not a date"),
        (
            {"from": "2024-05-02T00:00:00Z", "to": "2024-05-01T00:00:00Z"},
            "request_invalid",
            "earlier",
        ),
        (
            {"from": "2024-05-01T00:00:00Z", "to": "2024-05-01T00:00:00Z"},
            "request_invalid",
            "earlier",
        ),
        (
            {"from": "2024-05-01T00:00:00Z", "to": "2024-06-01T00:00:01Z"},
            "audit_window_too_large",
            "31 days",
        ),
        ({"from": "2000-01-01T00:00:00Z"}, "audit_window_too_large", "31 days"),
        ({"organization_id": "not-a-uuid"}, "request_invalid", "organization_id"),
    ],
)
async def test_bad_windows_are_a_422_saying_how_to_fix_them(
    client: httpx.AsyncClient,
    tenants: Tenants,
    params: dict[str, str],
    code: str,
    fragment: str,
) -> None:
    body = problem(await client.get(URL, headers=tenants.headers_a, params=params), 422, code)
    assert fragment in body["detail"] + str(body.get("errors"))


async def test_exactly_31_days_is_accepted(client: httpx.AsyncClient, tenants: Tenants) -> None:
    body = await summary(
        client, tenants.headers_a, **{"from": "2024-05-01T00:00:00Z", "to": "2024-06-01T00:00:00Z"}
    )
    assert len(body["per_hour"]) == 31 * 24
    assert body["total"] == 0
    assert uuid.UUID(body["organization_id"]) == tenants.org_a.id
