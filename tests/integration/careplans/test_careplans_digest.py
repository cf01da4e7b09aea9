"""Care-plan email preference: `immediate` (one email per event) or `daily_digest` (one
email a day listing the events, sent once by a scheduled workflow); in-app
notifications stay immediate for both."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import httpx
import pytest
from dbos import DBOS
from tests.factories import mail_text, mails_to, problem, wait_for_mail
from tests.integration.careplans.support import PLANS, World, build_world, create_plan, update_plan

from clinvault.bootstrap import Container
from clinvault.careplans.digest import DIGEST_SCHEDULE
from clinvault.careplans.workflows import care_plan_digest_workflow

PREFERENCES = f"{PLANS}/preferences"


@pytest.fixture
async def world(client: httpx.AsyncClient, container: Container) -> World:
    return await build_world(client, container)


async def _in_app(client: httpx.AsyncClient, headers: dict[str, str]) -> list[str]:
    answer = await client.get("/api/notifications", headers=headers)
    assert answer.status_code == 200, answer.text
    return [n["kind"] for n in answer.json()["items"] if n["kind"].startswith("care_plan.")]


async def _digest(scheduled_at: datetime) -> int:
    handle = await DBOS.start_workflow_async(care_plan_digest_workflow, scheduled_at, None)
    result: int = await handle.get_result()
    return result


def _care_plan_mails(container: Container, address: str) -> list[str]:
    return [str(m["Subject"]) for m in mails_to(container, address) if "Care plan" in m["Subject"]]


async def test_preference_defaults_to_immediate_and_is_each_users_own(
    client: httpx.AsyncClient, world: World
) -> None:
    assert (await client.get(PREFERENCES, headers=world.nurse)).json() == {"email": "immediate"}
    changed = await client.put(PREFERENCES, json={"email": "daily_digest"}, headers=world.nurse)
    assert changed.status_code == 200, changed.text
    assert (await client.get(PREFERENCES, headers=world.nurse)).json() == {"email": "daily_digest"}
    assert (await client.get(PREFERENCES, headers=world.doctor)).json() == {"email": "immediate"}
    back = await client.put(PREFERENCES, json={"email": "immediate"}, headers=world.nurse)
    assert back.json() == {"email": "immediate"}
    problem(
        await client.put(PREFERENCES, json={"email": "weekly"}, headers=world.nurse),
        422,
        "request_invalid",
    )
    problem(await client.get(PREFERENCES, headers=world.patient_headers), 403, "permission_denied")


async def test_two_events_make_one_digest_email_the_next_day_and_only_once(
    client: httpx.AsyncClient, container: Container, world: World
) -> None:
    schedules = await DBOS.list_schedules_async()
    assert any(s["schedule_name"] == DIGEST_SCHEDULE for s in schedules)
    nurse = world.clinic.users["nurse"]
    admin = world.clinic.users["org_admin"]
    admin_headers = world.clinic.headers["org_admin"]
    put = await client.put(PREFERENCES, json={"email": "daily_digest"}, headers=world.nurse)
    assert put.status_code == 200
    plan = await create_plan(client, world.doctor, world.patient_id)
    for headers in (world.nurse, admin_headers):
        assert (await client.post(f"{PLANS}/{plan['id']}/watch", headers=headers)).is_success
    changed = await update_plan(client, world.doctor, plan, plan["etag"], title="Second")
    assert changed.status_code == 200
    latest = changed.json()
    on_hold = await update_plan(client, world.doctor, latest, latest["etag"], status="on_hold")
    assert on_hold.status_code == 200

    # In-app notifications are immediate for both users.
    assert sorted(await _in_app(client, world.nurse)) == ["care_plan.status", "care_plan.version"]
    assert sorted(await _in_app(client, admin_headers)) == ["care_plan.status", "care_plan.version"]
    # The immediate user got one email per event; the digest user none so far.
    await wait_for_mail(container, admin.email, "changed status")
    await wait_for_mail(container, admin.email, "new version")
    assert _care_plan_mails(container, nurse.email) == []

    tomorrow = datetime.combine(datetime.now(UTC).date() + timedelta(days=1), time(7), UTC)
    assert await _digest(tomorrow) == 1
    mails = [m for m in mails_to(container, nurse.email) if "Care plans" in m["Subject"]]
    assert len(mails) == 1
    text = mail_text(mails[0])
    assert "2 updates" in str(mails[0]["Subject"])
    assert "A care plan you watch has a new version" in text
    assert "A care plan you watch changed status" in text
    assert text.count(f"/api/care-plans/{plan['id']}") == 2
    for phi in ("diabetes", "Second", "HbA1c", "Metformin", "Ada", "Lovelace"):
        assert phi not in text + str(mails[0]["Subject"])

    # Running the digest again (the same day or a retry) sends nothing more.
    assert await _digest(tomorrow) == 0
    assert await _digest(tomorrow + timedelta(hours=1)) == 0
    assert len([m for m in mails_to(container, nurse.email) if "Care plans" in m["Subject"]]) == 1
    # The immediate user is not in any digest.
    assert sorted(_care_plan_mails(container, admin.email)) == sorted(
        [
            "Care plan update: A care plan you watch changed status",
            "Care plan update: A care plan you watch has a new version",
        ]
    )


async def test_events_after_the_digest_wait_for_the_next_day(
    client: httpx.AsyncClient, container: Container, world: World
) -> None:
    nurse = world.clinic.users["nurse"]
    await client.put(PREFERENCES, json={"email": "daily_digest"}, headers=world.nurse)
    plan = await create_plan(client, world.doctor, world.patient_id)
    await client.post(f"{PLANS}/{plan['id']}/watch", headers=world.nurse)
    changed = await update_plan(client, world.doctor, plan, plan["etag"], title="Second")
    assert changed.status_code == 200
    today = datetime.now(UTC) + timedelta(minutes=1)
    assert await _digest(today) == 1
    latest = changed.json()
    on_hold = await update_plan(client, world.doctor, latest, latest["etag"], status="on_hold")
    assert on_hold.status_code == 200
    # Same day again: the new event waits; the next day it has its own digest.
    assert await _digest(today + timedelta(minutes=1)) == 0
    assert await _digest(today + timedelta(days=1)) == 1
    subjects = [str(m["Subject"]) for m in mails_to(container, nurse.email)]
    assert sorted(s for s in subjects if s.startswith("Care plans")) == [
        "Care plans: 1 update since your last digest",
        "Care plans: 1 update since your last digest",
    ]
