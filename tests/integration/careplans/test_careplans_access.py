"""Who reads and writes plans: the organization's clinicians; the patient only plans shared
with them, read-only; another organization never (404)."""

from __future__ import annotations

import httpx
import pytest
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


async def test_the_patient_reads_only_plans_shared_with_them_and_never_writes(
    client: httpx.AsyncClient, world: World
) -> None:
    shared = await create_plan(client, world.doctor, world.patient_id, shared_with_patient=True)
    hidden = await create_plan(client, world.doctor, world.patient_id, title="Internal")
    listed = await client.get(f"{PLANS}/", headers=world.patient_headers)
    assert listed.status_code == 200, listed.text
    assert [item["id"] for item in listed.json()["items"]] == [shared["id"]]
    assert (await client.get(f"{PLANS}/{shared['id']}", headers=world.patient_headers)).is_success
    unseen = await client.get(f"{PLANS}/{hidden['id']}", headers=world.patient_headers)
    assert unseen.status_code == 404
    written = await update_plan(client, world.patient_headers, shared, shared["etag"], title="x")
    assert written.status_code == 403
    history = await client.get(f"{PLANS}/{shared['id']}/versions", headers=world.patient_headers)
    assert history.status_code == 403
    created = await client.post(
        f"{PLANS}/",
        json={"patient_id": world.patient_id, "title": "Mine"},
        headers=world.patient_headers,
    )
    assert created.status_code == 403


async def test_another_organization_gets_404_and_a_clerk_403(
    client: httpx.AsyncClient, world: World
) -> None:
    plan = await create_plan(client, world.doctor, world.patient_id)
    for path in ("", "/versions", "/versions/1", "/diff?from=1&to=1"):
        foreign = await client.get(f"{PLANS}/{plan['id']}{path}", headers=world.foreign_doctor)
        assert foreign.status_code == 404, path
        assert foreign.json()["code"] == "care_plan_not_found"
    changed = await update_plan(client, world.foreign_doctor, plan, plan["etag"], title="x")
    assert changed.status_code == 404
    listed = await client.get(f"{PLANS}/", headers=world.foreign_doctor)
    assert listed.json()["total"] == 0
    clerk = world.clinic.headers["clerk"]
    assert (await client.get(f"{PLANS}/{plan['id']}", headers=clerk)).status_code == 403
    assert (await client.get(f"{PLANS}/", headers=clerk)).status_code == 403
    foreign_patient = await client.post(
        f"{PLANS}/",
        json={"patient_id": world.foreign_patient_id, "title": "x"},
        headers=world.doctor,
    )
    assert foreign_patient.status_code == 404
    assert (await client.get(f"{PLANS}/{plan['id']}")).status_code == 401
