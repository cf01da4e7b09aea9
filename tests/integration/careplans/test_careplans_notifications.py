"""Watchers are told, in-app and without health information, of new versions, status
changes, comments and shares; unwatching stops it; a revoked share stops it."""

from __future__ import annotations

import asyncio
from email import message_from_bytes, policy
from pathlib import Path
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


@pytest.fixture
async def world(client: httpx.AsyncClient, container: Container) -> World:
    return await build_world(client, container)


async def _inbox(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    answer = await client.get("/api/notifications", headers=headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    items: list[dict[str, Any]] = body["items"] if isinstance(body, dict) else body
    return [item for item in items if item["kind"].startswith("care_plan.")]


async def test_watchers_hear_of_versions_comments_and_status_exactly_once(
    client: httpx.AsyncClient, world: World
) -> None:
    plan = await create_plan(client, world.doctor, world.patient_id)
    commented = await client.post(
        f"{PLANS}/{plan['id']}/comments", json={"body": "Watching"}, headers=world.nurse
    )
    assert commented.status_code == 201
    doctor_inbox = await _inbox(client, world.doctor)
    assert [n["kind"] for n in doctor_inbox] == ["care_plan.comment"]
    changed = await update_plan(client, world.doctor, plan, plan["etag"], status="on_hold")
    assert changed.status_code == 200
    nurse_inbox = await _inbox(client, world.nurse)
    assert [n["kind"] for n in nurse_inbox] == ["care_plan.status"]
    text = " ".join(n["title"] + n["body"] + (n["link"] or "") for n in nurse_inbox)
    for phi in ("diabetes", "HbA1c", "Metformin", "Ada", "Lovelace"):
        assert phi not in text
    assert nurse_inbox[0]["link"] == f"/api/care-plans/{plan['id']}"
    again = await update_plan(client, world.doctor, changed.json(), changed.json()["etag"])
    assert again.status_code == 200
    kinds = [n["kind"] for n in await _inbox(client, world.nurse)]
    assert sorted(kinds) == ["care_plan.status", "care_plan.version"]
    assert [n["kind"] for n in await _inbox(client, world.doctor)] == ["care_plan.comment"]


async def test_unwatch_stops_notifications_and_watch_starts_them(
    client: httpx.AsyncClient, world: World
) -> None:
    plan = await create_plan(client, world.nurse, world.patient_id)
    assert (await client.post(f"{PLANS}/{plan['id']}/unwatch", headers=world.nurse)).is_success
    watched = await client.post(
        f"{PLANS}/{plan['id']}/watch", headers=world.clinic.headers["org_admin"]
    )
    assert watched.status_code == 200
    assert (await update_plan(client, world.doctor, plan, plan["etag"], title="T2")).is_success
    assert await _inbox(client, world.nurse) == []
    admin = await _inbox(client, world.clinic.headers["org_admin"])
    assert [n["kind"] for n in admin] == ["care_plan.version"]
    patient = await client.post(f"{PLANS}/{plan['id']}/watch", headers=world.patient_headers)
    assert patient.status_code == 404


async def test_shares_notify_and_a_revoked_share_silences_its_user(
    client: httpx.AsyncClient, container: Container, world: World
) -> None:
    plan = await create_plan(client, world.doctor, world.patient_id)
    other = await create_org(container)
    _, partner = await member(container, other, Role.DOCTOR)
    made = await client.post(
        f"{PLANS}/{plan['id']}/shares",
        json={"organization_id": str(other.id), "level": "edit"},
        headers=world.doctor,
    )
    accepted = await client.post(f"{PLANS}/shares/{made.json()['id']}/accept", headers=partner)
    assert accepted.status_code == 200
    assert [n["kind"] for n in await _inbox(client, world.doctor)] == ["care_plan.share"]
    edited = await update_plan(client, partner, plan, plan["etag"], title="Partner edit")
    assert edited.status_code == 200
    assert "care_plan.version" in [n["kind"] for n in await _inbox(client, world.doctor)]
    await client.post(f"{PLANS}/shares/{made.json()['id']}/revoke", headers=world.doctor)
    latest = edited.json()
    assert (await update_plan(client, world.doctor, latest, latest["etag"])).is_success
    assert await _inbox(client, partner) == []


async def test_watchers_get_one_email_per_event_with_a_link_and_no_health_information(
    client: httpx.AsyncClient, world: World, home: Path
) -> None:
    plan = await create_plan(client, world.doctor, world.patient_id)
    nurse = world.clinic.users["nurse"]
    await client.post(f"{PLANS}/{plan['id']}/watch", headers=world.nurse)
    changed = await update_plan(client, world.doctor, plan, plan["etag"], title="Second")
    assert changed.status_code == 200
    mails = _mails_to(home, nurse.email)
    for _ in range(50):
        if mails:
            break
        await asyncio.sleep(0.1)
        mails = _mails_to(home, nurse.email)
    await asyncio.sleep(0.3)
    mails = _mails_to(home, nurse.email)
    assert len(mails) == 1
    subject, text = mails[0]
    assert "new version" in subject
    assert f"/api/care-plans/{plan['id']}" in text
    for phi in ("diabetes", "Second", "HbA1c", "Ada", "Lovelace"):
        assert phi not in subject + text


def _mails_to(home: Path, address: str) -> list[tuple[str, str]]:
    found = []
    for path in sorted((home / "mail").glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if address in str(message["To"]):
            body = message.get_body(preferencelist=("plain",))
            text = body.get_content() if body is not None else ""
            found.append((str(message["Subject"]), str(text)))
    return found
