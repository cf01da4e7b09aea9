"""Plans: created as version 1, every change a new immutable version, diff and restore."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa
from tests.integration.careplans.support import (
    PLANS,
    World,
    build_world,
    create_plan,
    update_plan,
)

from clinvault.bootstrap import Container


@pytest.fixture
async def world(client: httpx.AsyncClient, container: Container) -> World:
    return await build_world(client, container)


async def test_a_plan_is_created_read_and_listed(client: httpx.AsyncClient, world: World) -> None:
    plan = await create_plan(client, world.doctor, world.patient_id)
    assert plan["version"] == 1
    assert plan["status"] == "active"
    assert plan["activities"][1]["status"] == "not_started"
    assert "<h2>Plan</h2>" in plan["body_html"]
    read = await client.get(f"{PLANS}/{plan['id']}", headers=world.nurse)
    assert read.status_code == 200
    assert read.json()["goals"] == plan["goals"]
    assert read.headers["etag"] == plan["etag"]
    await create_plan(client, world.doctor, world.patient_id, status="draft", title="Follow-up")
    listed = await client.get(f"{PLANS}/", params={"status": "draft"}, headers=world.doctor)
    assert [item["title"] for item in listed.json()["items"]] == ["Follow-up"]
    by_patient = await client.get(
        f"{PLANS}/", params={"patient_id": world.patient_id}, headers=world.doctor
    )
    assert by_patient.json()["total"] == 2


async def test_plan_content_is_encrypted_at_rest(
    client: httpx.AsyncClient, container: Container, world: World
) -> None:
    await create_plan(client, world.doctor, world.patient_id, body="Secret insulin regimen")
    async with container.db.unit_of_work() as session:
        rows = (await session.execute(sa.text("SELECT title, content FROM care_plans"))).all()
        versions = (await session.execute(sa.text("SELECT content FROM care_plan_versions"))).all()
    stored = " ".join(str(value) for row in [*rows, *versions] for value in row)
    assert "insulin" not in stored
    assert "diabetes" not in stored


async def test_every_change_is_a_new_version_and_old_ones_stay(
    client: httpx.AsyncClient, world: World
) -> None:
    plan = await create_plan(client, world.doctor, world.patient_id)
    changed = await update_plan(
        client,
        world.nurse,
        plan,
        plan["etag"],
        goals=["HbA1c below 6.5%"],
        body="## Plan\n\nStart with diet.\nCheck glucose twice a day.\n",
    )
    assert changed.status_code == 200, changed.text
    second = changed.json()
    assert second["version"] == 2
    assert changed.headers["etag"] != plan["etag"]
    versions = (await client.get(f"{PLANS}/{plan['id']}/versions", headers=world.doctor)).json()
    assert [v["number"] for v in versions] == [1, 2]
    assert versions[0]["author_id"] != versions[1]["author_id"]
    first = await client.get(f"{PLANS}/{plan['id']}/versions/1", headers=world.doctor)
    assert first.json()["content"]["goals"] == plan["goals"]
    diff = await client.get(
        f"{PLANS}/{plan['id']}/diff", params={"from": 1, "to": 2}, headers=world.doctor
    )
    assert diff.status_code == 200, diff.text
    changes = {c["field"]: c for c in diff.json()["changes"]}
    assert set(changes) == {"goals"}
    assert changes["goals"]["after"] == ["HbA1c below 6.5%"]
    lines = diff.json()["body_diff"]
    assert "-Check glucose daily." in lines
    assert "+Check glucose twice a day." in lines


async def test_restore_is_a_new_version_copying_an_old_one(
    client: httpx.AsyncClient, world: World
) -> None:
    plan = await create_plan(client, world.doctor, world.patient_id)
    second = (await update_plan(client, world.doctor, plan, plan["etag"], status="on_hold")).json()
    restored = await client.post(
        f"{PLANS}/{plan['id']}/versions/1/restore",
        headers={**world.doctor, "If-Match": second["etag"]},
    )
    assert restored.status_code == 200, restored.text
    assert restored.json()["version"] == 3
    assert restored.json()["status"] == "active"
    versions = (await client.get(f"{PLANS}/{plan['id']}/versions", headers=world.doctor)).json()
    assert versions[2]["restored_from"] == 1
    assert versions[1]["status"] == "on_hold"
    same = await client.get(
        f"{PLANS}/{plan['id']}/diff", params={"from": 1, "to": 3}, headers=world.doctor
    )
    assert same.json()["changes"] == []
    assert same.json()["body_diff"] == []


async def test_a_stale_etag_is_a_412_naming_who_changed_it_and_nothing_is_lost(
    client: httpx.AsyncClient, world: World
) -> None:
    plan = await create_plan(client, world.doctor, world.patient_id)
    first = await update_plan(client, world.nurse, plan, plan["etag"], title="Nurse's edit")
    assert first.status_code == 200
    stale = await update_plan(client, world.doctor, plan, plan["etag"], title="Doctor's edit")
    assert stale.status_code == 412, stale.text
    assert stale.headers["content-type"].startswith("application/problem+json")
    problem = stale.json()
    assert problem["code"] == "care_plan_changed"
    assert world.clinic.users["nurse"].display_name in problem["detail"]
    assert "version 2" in problem["detail"]
    assert "/diff" in problem["detail"]
    assert stale.headers["etag"] == first.json()["etag"]
    current = (await client.get(f"{PLANS}/{plan['id']}", headers=world.doctor)).json()
    assert current["title"] == "Nurse's edit"
    assert current["version"] == 2
    retried = await update_plan(client, world.doctor, current, stale.headers["etag"])
    assert retried.status_code == 200
    assert retried.json()["version"] == 3


async def test_an_update_without_if_match_is_a_428(client: httpx.AsyncClient, world: World) -> None:
    plan = await create_plan(client, world.doctor, world.patient_id)
    missing = await update_plan(client, world.doctor, plan, None, title="No tag")
    assert missing.status_code == 428, missing.text
    assert missing.json()["code"] == "care_plan_version_required"
    restore = await client.post(f"{PLANS}/{plan['id']}/versions/1/restore", headers=world.doctor)
    assert restore.status_code == 428
    after = await client.get(f"{PLANS}/{plan['id']}/versions", headers=world.doctor)
    assert len(after.json()) == 1
