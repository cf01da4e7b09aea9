"""Bad input: each a clear 4xx problem+json (or a harmless rendering), never a 500."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.integration.careplans.support import (
    PLANS,
    World,
    build_world,
    create_plan,
    plan_body,
    update_plan,
)

from clinvault.bootstrap import Container


@pytest.fixture
async def world(client: httpx.AsyncClient, container: Container) -> World:
    return await build_world(client, container)


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["detail"]
    return body


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "bad\x00title"}, "title"),
        ({"status": "finished"}, "status"),
        ({"period_start": "1066-10-14"}, "period_start"),
        ({"period_start": "2026-07-01", "period_end": "2026-01-01"}, None),
        ({"goals": ["x"] * 51}, "goals"),
        ({"goals": ["line\x07bell"]}, "goals"),
        ({"activities": [{"what": "x", "status": "maybe"}]}, "activities"),
        ({"activities": [{"what": "x", "unknown": 1}]}, "activities"),
        ({"body": "x" * 50_001}, "body"),
        ({"body": "ok\x1bescape"}, "body"),
        ({"organization_id": "0190a000-0000-7000-8000-000000000000"}, "organization_id"),
    ],
)
async def test_invalid_plans_are_422_naming_the_field(
    client: httpx.AsyncClient, world: World, overrides: dict[str, Any], field: str | None
) -> None:
    answer = await client.post(
        f"{PLANS}/", json=plan_body(world.patient_id, **overrides), headers=world.doctor
    )
    problem = _problem(answer, 422)
    if field is not None:
        assert field in str(problem.get("errors")), problem
    listed = await client.get(f"{PLANS}/", headers=world.doctor)
    assert listed.json()["total"] == 0


async def test_script_and_html_in_the_body_render_harmless(
    client: httpx.AsyncClient, world: World
) -> None:
    body = (
        "<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n"
        "[click](javascript:alert(3)) and **bold**\n"
    )
    plan = await create_plan(client, world.doctor, world.patient_id, body=body)
    html = plan["body_html"]
    assert "<script" not in html
    assert "<img" not in html
    assert "href" not in html
    assert "<strong>bold</strong>" in html
    assert plan["body"] == body


@pytest.mark.parametrize(
    ("if_match", "status", "code"),
    [
        ('"not-a-tag"', 422, "care_plan_invalid"),
        ("*", 422, "care_plan_invalid"),
        ('"0190a000-0000-7000-8000-000000000000.1"', 412, "care_plan_changed"),
        ('"{id}.7"', 412, "care_plan_changed"),
        ('W/"{id}.99999999999"', 422, "care_plan_invalid"),
    ],
)
async def test_bad_if_match_headers(
    client: httpx.AsyncClient, world: World, if_match: str, status: int, code: str
) -> None:
    plan = await create_plan(client, world.doctor, world.patient_id)
    answer = await update_plan(
        client, world.doctor, plan, if_match.replace("{id}", plan["id"]), title="x"
    )
    assert _problem(answer, status)["code"] == code
    current = (await client.get(f"{PLANS}/{plan['id']}", headers=world.doctor)).json()
    assert current["version"] == 1


async def test_bad_versions_and_diff_queries(client: httpx.AsyncClient, world: World) -> None:
    plan = await create_plan(client, world.doctor, world.patient_id)
    base = f"{PLANS}/{plan['id']}"
    missing = await client.get(f"{base}/versions/5", headers=world.doctor)
    assert _problem(missing, 404)["code"] == "care_plan_version_not_found"
    for path in ("/versions/0", "/versions/abc", "/versions/99999999999"):
        _problem(await client.get(base + path, headers=world.doctor), 422)
    for query in ({"from": 1}, {"from": 0, "to": 1}, {"from": "x", "to": 1}):
        _problem(await client.get(f"{base}/diff", params=query, headers=world.doctor), 422)
    gone = await client.get(f"{base}/diff", params={"from": 1, "to": 4}, headers=world.doctor)
    assert _problem(gone, 404)["code"] == "care_plan_version_not_found"
    _problem(await client.get(f"{PLANS}/not-a-uuid", headers=world.doctor), 422)
    _problem(await client.get(f"{PLANS}/", params={"status": "nope"}, headers=world.doctor), 422)
    _problem(await client.get(f"{PLANS}/", params={"limit": 0}, headers=world.doctor), 422)
