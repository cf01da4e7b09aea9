"""Comment threads: tied to a version and a goal or activity, replies, the 15-minute edit
window, resolve and reopen, mentions (notified; refused for users who cannot see the plan)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from tests.factories import create_org
from tests.integration.careplans.support import (
    PLANS,
    World,
    build_world,
    create_plan,
    update_plan,
)
from tests.integration.records.conftest import member

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role
from clinvault.models.careplans import CarePlanComment


@pytest.fixture
async def world(client: httpx.AsyncClient, container: Container) -> World:
    return await build_world(client, container)


async def _comment(
    client: httpx.AsyncClient, headers: dict[str, str], plan_id: str, **body: Any
) -> httpx.Response:
    return await client.post(f"{PLANS}/{plan_id}/comments", json=body, headers=headers)


async def _threads(
    client: httpx.AsyncClient, headers: dict[str, str], plan_id: str
) -> list[dict[str, Any]]:
    answer = await client.get(f"{PLANS}/{plan_id}/comments", headers=headers)
    assert answer.status_code == 200, answer.text
    threads: list[dict[str, Any]] = answer.json()
    return threads


async def test_threads_replies_versions_and_outdated_anchors(
    client: httpx.AsyncClient, world: World
) -> None:
    plan = await create_plan(client, world.doctor, world.patient_id)
    on_goal = await _comment(client, world.doctor, plan["id"], body="Too ambitious?", goal_index=0)
    assert on_goal.status_code == 201, on_goal.text
    general = await _comment(client, world.nurse, plan["id"], body="Looks good")
    reply = await _comment(
        client, world.nurse, plan["id"], body="Agreed, 7.5%", parent_id=on_goal.json()["id"]
    )
    assert reply.status_code == 201, reply.text
    changed = await update_plan(
        client, world.doctor, plan, plan["etag"], goals=["HbA1c below 7.5%", plan["goals"][1]]
    )
    assert changed.status_code == 200
    threads = await _threads(client, world.doctor, plan["id"])
    assert [t["id"] for t in threads] == [on_goal.json()["id"], general.json()["id"]]
    first = threads[0]
    assert first["version"] == 1
    assert first["on_current_version"] is False
    assert first["anchor"] == "goal:0"
    assert first["outdated"] is True
    assert [r["body"] for r in first["replies"]] == ["Agreed, 7.5%"]
    assert threads[1]["outdated"] is False
    untouched = await _comment(client, world.doctor, plan["id"], body="ok", activity_index=1)
    assert untouched.json()["outdated"] is False


async def test_edit_within_15_minutes_by_its_author_only(
    client: httpx.AsyncClient, container: Container, world: World
) -> None:
    plan = await create_plan(client, world.doctor, world.patient_id)
    made = (await _comment(client, world.doctor, plan["id"], body="Draft thought")).json()
    url = f"{PLANS}/{plan['id']}/comments/{made['id']}"
    edited = await client.patch(url, json={"body": "Second thought"}, headers=world.doctor)
    assert edited.status_code == 200, edited.text
    assert edited.json()["edited_at"] is not None
    other = await client.patch(url, json={"body": "Hijack"}, headers=world.nurse)
    assert other.status_code == 403
    async with container.db.unit_of_work() as session:
        row = await session.get(CarePlanComment, uuid.UUID(made["id"]))
        assert row is not None
        row.created_at = row.created_at - timedelta(minutes=16)
    late = await client.patch(url, json={"body": "Too late"}, headers=world.doctor)
    assert late.status_code == 409
    assert late.json()["code"] == "care_plan_comment_locked"
    threads = await _threads(client, world.doctor, plan["id"])
    assert threads[0]["body"] == "Second thought"


async def test_resolve_and_reopen_a_thread(client: httpx.AsyncClient, world: World) -> None:
    plan = await create_plan(client, world.doctor, world.patient_id)
    root = (await _comment(client, world.doctor, plan["id"], body="Question")).json()
    reply = (await _comment(client, world.nurse, plan["id"], body="A", parent_id=root["id"])).json()
    base = f"{PLANS}/{plan['id']}/comments"
    resolved = await client.post(f"{base}/{root['id']}/resolve", headers=world.nurse)
    assert resolved.status_code == 200
    assert resolved.json()["resolved_by"] == str(world.clinic.users["nurse"].id)
    not_root = await client.post(f"{base}/{reply['id']}/resolve", headers=world.nurse)
    assert not_root.status_code == 422
    reopened = await client.post(f"{base}/{root['id']}/reopen", headers=world.doctor)
    assert reopened.json()["resolved_at"] is None
    missing = await client.post(f"{base}/{uuid.uuid4()}/resolve", headers=world.doctor)
    assert missing.status_code == 404


async def test_view_level_cannot_comment_and_patients_cannot_read_threads(
    client: httpx.AsyncClient, container: Container, world: World
) -> None:
    plan = await create_plan(client, world.doctor, world.patient_id, shared_with_patient=True)
    other = await create_org(container)
    _, viewer = await member(container, other, Role.DOCTOR)
    share = await client.post(
        f"{PLANS}/{plan['id']}/shares",
        json={"organization_id": str(other.id), "level": "view"},
        headers=world.doctor,
    )
    await client.post(f"{PLANS}/shares/{share.json()['id']}/accept", headers=viewer)
    refused = await _comment(client, viewer, plan["id"], body="Can I?")
    assert refused.status_code == 403
    assert (await _threads(client, viewer, plan["id"])) == []
    patient = await client.get(f"{PLANS}/{plan['id']}/comments", headers=world.patient_headers)
    assert patient.status_code == 403
    assert (await _comment(client, world.patient_headers, plan["id"], body="x")).status_code == 403


async def test_mentions_notify_and_refuse_users_who_cannot_see_the_plan_alike(
    client: httpx.AsyncClient, container: Container, world: World
) -> None:
    plan = await create_plan(client, world.doctor, world.patient_id)
    nurse = world.clinic.users["nurse"]
    made = await _comment(
        client, world.doctor, plan["id"], body="@nurse please check", mentions=[str(nurse.id)]
    )
    assert made.status_code == 201, made.text
    inbox = (await client.get("/api/notifications", headers=world.nurse)).json()
    items = inbox["items"] if isinstance(inbox, dict) else inbox
    mention = [n for n in items if n["kind"] == "care_plan.mention"]
    assert len(mention) == 1
    assert "diabetes" not in mention[0]["title"] + mention[0]["body"]
    outsider, _ = await member(container, await create_org(container), Role.DOCTOR)
    clerk = world.clinic.users["clerk"]
    answers = [
        await _comment(client, world.doctor, plan["id"], body="hi", mentions=[str(target)])
        for target in (outsider.id, clerk.id, uuid.uuid4(), world.patient_user.id)
    ]
    assert {a.status_code for a in answers} == {422}
    assert len({a.json()["detail"] for a in answers}) == 1
    assert len(await _threads(client, world.doctor, plan["id"])) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"body": ""},
        {"body": "x" * 4001},
        {"body": "bell\x07"},
        {"body": "x", "goal_index": 0, "activity_index": 0},
        {"body": "x", "goal_index": 7},
        {"body": "x", "activity_index": -1},
        {"body": "x", "version": 9},
        {"body": "x", "parent_id": "0190a000-0000-7000-8000-000000000000"},
        {"body": "x", "mentions": ["not-a-uuid"]},
    ],
)
async def test_bad_comments_are_a_clear_422(
    client: httpx.AsyncClient, world: World, body: dict[str, Any]
) -> None:
    plan = await create_plan(client, world.doctor, world.patient_id)
    answer = await _comment(client, world.doctor, plan["id"], **body)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert await _threads(client, world.doctor, plan["id"]) == []
