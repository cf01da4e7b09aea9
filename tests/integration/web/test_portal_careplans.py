"""Care plans in the portal, without JavaScript: forms post, pages answer.

Writing a plan, the stale edit (412 with who and when, the typed text kept,
nothing saved), the missing version (428), sharing and accepting across
organizations, levels deciding which forms show, bad share input, the diff
side by side, the patient's read-only view, and roles without care plans.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from html import unescape
from typing import Any

import httpx
from fastapi import FastAPI
from portal_helpers import ACCESS, form_token
from tests.integration.careplans.support import (
    PLANS,
    World,
    build_world,
    create_plan,
    update_plan,
)

from clinvault.bootstrap import Container


@asynccontextmanager
async def portal_as(app: FastAPI, headers: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    """A portal client whose session cookie holds the bearer of `headers`."""
    transport = httpx.ASGITransport(app=app, client=("198.51.100.7", 4444))
    async with httpx.AsyncClient(
        transport=transport, base_url="https://testserver", follow_redirects=False
    ) as http:
        token = headers["Authorization"].removeprefix("Bearer ")
        http.cookies.set(ACCESS, token, domain="testserver.local")
        yield http


def text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


async def post(
    portal: httpx.AsyncClient, page: str, action: str, fields: dict[str, Any]
) -> httpx.Response:
    shown = await portal.get(page)
    assert shown.status_code == 200, shown.text
    return await portal.post(action, data={**fields, "csrf_token": form_token(shown.text, action)})


def plan_fields(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "title": "Asthma action plan",
        "status": "active",
        "period_start": "2026-02-01",
        "period_end": "2026-08-01",
        "goals": "No night waking\nPeak flow above 400",
        "activity_what": ["Inhaler technique check", ""],
        "activity_who": ["Nurse", ""],
        "activity_when": ["Next visit", ""],
        "activity_status": ["scheduled", "not_started"],
        "body": "Step up if needed.\n\n<img src=x onerror=alert(1)>",
        "intent": "save",
    }
    fields.update(overrides)
    return fields


async def test_a_doctor_writes_a_plan_with_the_form_and_it_is_listed_and_filtered(
    app: FastAPI, client: httpx.AsyncClient, container: Container
) -> None:
    world = await build_world(client, container)
    async with portal_as(app, world.doctor) as portal:
        bad = await post(
            portal, "/care-plans/new", "/care-plans/new",
            plan_fields(patient_id=world.patient_id, title="", period_end="2026-01-01"),
        )  # fmt: skip
        assert bad.status_code == 400
        assert 'id="title-error"' in bad.text
        assert "Inhaler technique check" in bad.text  # typed values kept
        made = await post(
            portal, "/care-plans/new", "/care-plans/new", plan_fields(patient_id=world.patient_id)
        )
        assert made.status_code == 303, made.text
        plan_url = made.headers["location"].split("?")[0]
        page = await portal.get(plan_url)
        assert page.status_code == 200
        assert "<img" not in page.text  # the HTML is shown as text, never an element
        assert "&lt;img src=x onerror=alert(1)&gt;" in page.text
        assert "Inhaler technique check" in text(page.text)
        listed = text((await portal.get("/care-plans")).text)
        assert "Asthma action plan" in listed
        drafts = text((await portal.get("/care-plans?status=draft")).text)
        assert "Asthma action plan" not in drafts
    plan_id = plan_url.rsplit("/", 1)[1]
    stored = (await client.get(f"{PLANS}/{plan_id}", headers=world.doctor)).json()
    assert stored["goals"] == ["No night waking", "Peak flow above 400"]
    assert stored["activities"][0]["who"] == "Nurse"
    assert len(stored["activities"]) == 1


async def test_a_stale_edit_shows_who_changed_it_keeps_the_text_and_saves_nothing(
    app: FastAPI, client: httpx.AsyncClient, container: Container
) -> None:
    world = await build_world(client, container)
    plan = await create_plan(client, world.doctor, world.patient_id)
    edit = f"/care-plans/{plan['id']}/edit"
    async with portal_as(app, world.nurse) as portal:
        shown = await portal.get(edit)
        token = form_token(shown.text, edit)
        assert 'name="version" value="1"' in shown.text
        changed = await update_plan(client, world.doctor, plan, plan["etag"], title="Changed")
        assert changed.status_code == 200
        fields = plan_fields(body="My careful edit.", csrf_token=token, version="1")
        stale = await portal.post(edit, data=fields)
        assert stale.status_code == 412
        shown_text = text(stale.text)
        assert "changed this plan at" in shown_text
        assert "now version 2; you started from version 1" in shown_text
        assert "My careful edit." in stale.text
        assert f"/care-plans/{plan['id']}/diff?from=1&amp;to=2" in stale.text
        assert 'name="version" value="2"' in stale.text
        current = (await client.get(f"{PLANS}/{plan['id']}", headers=world.doctor)).json()
        assert current["version"] == 2
        assert current["body"] != "My careful edit."
        missing = await portal.post(edit, data={**fields, "version": ""})
        assert missing.status_code == 428
        assert "My careful edit." in missing.text
        again = await portal.post(edit, data={**fields, "version": "2"})
        assert again.status_code == 303
    current = (await client.get(f"{PLANS}/{plan['id']}", headers=world.doctor)).json()
    assert current["version"] == 3
    assert current["body"] == "My careful edit."


async def test_share_accept_and_levels_decide_the_forms_of_another_organization(
    app: FastAPI, client: httpx.AsyncClient, container: Container
) -> None:
    world: World = await build_world(client, container)
    plan = await create_plan(client, world.doctor, world.patient_id)
    other = (await client.get("/api/auth/profile", headers=world.foreign_doctor)).json()
    page = f"/care-plans/{plan['id']}"
    action = f"/care-plans/{plan['id']}/shares"
    async with portal_as(app, world.doctor) as portal:
        nobody = {"grantee_kind": "organization", "grantee_id": "nobody", "level": "view"}
        bad = await post(portal, page, action, nobody)
        assert bad.status_code == 400
        assert "nobody" in bad.text
        past = await post(portal, page, action, {
            "grantee_kind": "organization", "grantee_id": other["organization_id"],
            "level": "view", "expires_on": "2020-01-01",
        })  # fmt: skip
        assert past.status_code in (400, 422)
        assert 'id="share-error"' in past.text
        assert "2020-01-01" in past.text
        made = await post(portal, page, action, {
            "grantee_kind": "organization", "grantee_id": other["organization_id"],
            "level": "view",
        })  # fmt: skip
        assert made.status_code == 303
        shown = await portal.get(page)
        assert "Waiting for acceptance" in text(shown.text)
        expiry = re.search(r'action="(/care-plans/[\w-]+/shares/[\w-]+/expiry)"', shown.text)
        assert expiry is not None
        wrong = await post(portal, page, expiry.group(1), {"expires_on": "soon"})
        assert wrong.status_code == 400
        extended = await post(portal, page, expiry.group(1), {"expires_on": "2099-12-31"})
        assert extended.status_code == 303
        assert "31 Dec 2099" in text((await portal.get(page)).text)
    async with portal_as(app, world.foreign_doctor) as portal:
        assert (await portal.get(page)).status_code == 404  # not accepted yet
        listing = await portal.get("/care-plans")
        accept = re.search(r'action="(/care-plans/shares/[0-9a-f-]+/accept)"', listing.text)
        assert accept is not None
        accepted = await post(portal, "/care-plans", accept.group(1), {})
        assert accepted.status_code == 303
        shown = await portal.get(page)
        assert shown.status_code == 200
        assert "Type 2 diabetes management" in shown.text
        assert f'action="{page}/comments"' not in shown.text
        assert "Edit plan" not in shown.text
        assert "Share this plan" not in shown.text
        assert (await portal.get(f"{page}/edit")).status_code == 403
        assert "Type 2 diabetes management" in (await portal.get("/care-plans")).text


async def test_the_diff_page_lays_the_versions_side_by_side(
    app: FastAPI, client: httpx.AsyncClient, container: Container
) -> None:
    world = await build_world(client, container)
    plan = await create_plan(client, world.doctor, world.patient_id)
    body = "## Plan\n\nStart with exercise.\nCheck glucose daily.\n"
    changed = await update_plan(
        client, world.doctor, plan, plan["etag"], body=body, status="on_hold"
    )
    assert changed.status_code == 200
    async with portal_as(app, world.doctor) as portal:
        page = await portal.get(f"/care-plans/{plan['id']}/diff?from=1&to=2")
        assert page.status_code == 200
        shown = text(page.text)
        assert "Version 1 compared with version 2" in shown
        assert "Removed: Start with diet." in shown
        assert "Added: Start with exercise." in shown
        assert "On hold" in shown
        clamped = await portal.get(f"/care-plans/{plan['id']}/diff?from=0&to=99")
        assert clamped.status_code == 200
        assert "Version 1 compared with version 2" in text(clamped.text)


async def test_the_patient_reads_a_shared_plan_only_and_a_clerk_has_no_care_plans(
    app: FastAPI, client: httpx.AsyncClient, container: Container
) -> None:
    world = await build_world(client, container)
    hidden = await create_plan(client, world.doctor, world.patient_id, title="Internal plan")
    shared = await create_plan(
        client, world.doctor, world.patient_id, title="Your plan", shared_with_patient=True
    )
    async with portal_as(app, world.patient_headers) as portal:
        mine = text((await portal.get("/my-care-plans")).text)
        assert "Your plan" in mine
        assert "Internal plan" not in mine
        page = await portal.get(f"/care-plans/{shared['id']}")
        assert page.status_code == 200
        assert 'id="comments"' not in page.text
        assert "Edit plan" not in page.text
        assert (await portal.get(f"/care-plans/{hidden['id']}")).status_code == 404
        assert (await portal.get(f"/care-plans/{shared['id']}/edit")).status_code == 403
    async with portal_as(app, world.clinic.headers["clerk"]) as portal:
        assert (await portal.get("/care-plans")).status_code == 403
        home = await portal.get("/")
        assert 'href="/care-plans"' not in home.text


async def test_threads_are_replied_to_resolved_reopened_and_an_old_version_restored(
    app: FastAPI, client: httpx.AsyncClient, container: Container
) -> None:
    world = await build_world(client, container)
    plan = await create_plan(client, world.doctor, world.patient_id)
    changed = await update_plan(client, world.doctor, plan, plan["etag"], title="Second title")
    assert changed.status_code == 200
    page = f"/care-plans/{plan['id']}"
    async with portal_as(app, world.nurse) as portal:
        empty = await post(portal, page, f"{page}/comments", {"body": " ", "version": "2"})
        assert empty.status_code == 400
        assert 'id="comment-error"' in empty.text
        doctor = str(world.clinic.users["doctor"].id)
        assert f'name="mentions" value="{doctor}"' in (await portal.get(page)).text
        made = await post(portal, page, f"{page}/comments", {
            "body": "Is the walking goal realistic?", "version": "2", "anchor": "goal:1",
            "mentions": [doctor],
        })  # fmt: skip
        assert made.status_code == 303
        told = await client.get("/api/notifications", headers=world.doctor)
        assert "care_plan.mention" in told.text
        shown = await portal.get(page)
        thread = re.search(r'name="parent_id" value="([0-9a-f-]+)"', shown.text)
        assert thread is not None
        assert "On Goal 2: Walk 30 minutes a day" in text(shown.text)
        replied = await post(portal, page, f"{page}/comments", {
            "body": "Yes, agreed with the patient.", "parent_id": thread.group(1), "version": "2",
        })  # fmt: skip
        assert replied.status_code == 303
        resolve = f"{page}/comments/{thread.group(1)}/resolve"
        resolved = await post(portal, page, resolve, {"resolved": "yes"})
        assert resolved.status_code == 303
        assert "Reopen thread" in (await portal.get(page)).text
        reopened = await post(portal, page, resolve, {"resolved": "no"})
        assert reopened.status_code == 303
        assert "Resolve thread" in (await portal.get(page)).text
        assert "You are watching this plan" in text((await portal.get(page)).text)
        unwatched = await post(portal, page, f"{page}/watch", {"watching": "no"})
        assert unwatched.status_code == 303
        assert "You are not watching this plan" in text((await portal.get(page)).text)
        restored = await post(portal, page, f"{page}/restore", {"number": "1", "version": "3"})
        assert restored.status_code == 412  # based on a version that is not the current one
        assert "changed this plan" in text(restored.text)
        restored = await post(portal, page, f"{page}/restore", {"number": "1", "version": "2"})
        assert restored.status_code == 303
        after = text((await portal.get(page)).text)
        assert "version 3" in after
        assert "(restores 1)" in after
    threads = await client.get(f"{PLANS}/{plan['id']}/comments", headers=world.doctor)
    assert threads.json()[0]["replies"][0]["body"] == "Yes, agreed with the patient."
    current = (await client.get(f"{PLANS}/{plan['id']}", headers=world.doctor)).json()
    assert current["title"] == "Type 2 diabetes management"


async def test_a_doctor_chooses_a_daily_digest_of_care_plan_emails_from_the_list(
    app: FastAPI, client: httpx.AsyncClient, container: Container
) -> None:
    world = await build_world(client, container)
    preferences = f"{PLANS}/preferences"
    assert (await client.get(preferences, headers=world.doctor)).json() == {"email": "immediate"}
    async with portal_as(app, world.doctor) as portal:
        page = await portal.get("/care-plans")
        assert re.search(r'value="immediate"\s+checked', page.text)
        wrong = await post(portal, "/care-plans", "/care-plans/emails", {"delivery": "hourly"})
        assert wrong.status_code == 422
        assert "at once or once a day" in text(wrong.text)
        assert (await client.get(preferences, headers=world.doctor)).json() == {
            "email": "immediate"
        }
        saved = await post(
            portal, "/care-plans", "/care-plans/emails", {"delivery": "daily_digest"}
        )
        assert saved.status_code == 303
        shown = await portal.get(saved.headers["location"])
        assert "Saved: care-plan emails" in text(shown.text)
        assert re.search(r'value="daily_digest"\s+checked', shown.text)
    assert (await client.get(preferences, headers=world.doctor)).json() == {"email": "daily_digest"}
