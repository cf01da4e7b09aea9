"""Each role's home page shows the day's work: today's appointments, documents waiting for
review, credentials expiring soon, members, prescriptions waiting, the next visit and
unread notifications; every count stays inside the user's organization."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from html import unescape

import httpx
import pytest
from fastapi import FastAPI
from portal_helpers import ACCESS
from tests.integration.credentials.support import (
    five_documents,
    metadata,
    practitioner,
    submitted,
)
from tests.integration.prescriptions.support import Loop, Party, build_loop, issued, party
from tests.integration.records.conftest import add_patient

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role
from clinvault.notifications.service import notify
from clinvault.web.pages.home import schedule

# "Now" for the home page: tomorrow 08:00 UTC, so that every booking below lies in the
# future for the API and on the page's "today" whatever the hour the test runs.
NOW = (datetime.now(UTC) + timedelta(days=1)).replace(hour=8, minute=0, second=0, microsecond=0)


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schedule, "utcnow", lambda: NOW)


@asynccontextmanager
async def portal_as(app: FastAPI, who: Party) -> AsyncIterator[httpx.AsyncClient]:
    """A portal client whose session cookie holds `who`'s access token."""
    transport = httpx.ASGITransport(app=app, client=("198.51.100.21", 4444))
    async with httpx.AsyncClient(
        transport=transport, base_url="https://testserver", follow_redirects=False
    ) as http:
        http.cookies.set(
            ACCESS, who.headers["Authorization"].removeprefix("Bearer "), domain="testserver.local"
        )
        yield http


def panel(html: str, key: str) -> str:
    """The text of one home panel as read aloud (the hidden attention dot left out);
    fails when the page has no such panel."""
    match = re.search(rf'data-panel="{key}">(.*?)</section>', html, re.S)
    assert match, f"no {key} panel"
    spoken = re.sub(r'<span[^>]*aria-hidden="true">[^<]*</span>', "", match.group(1))
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", spoken)).split())


def wants_attention(html: str, key: str) -> bool:
    return bool(re.search(rf'home-panel--attention"[^>]*data-panel="{key}"', html))


def panels(html: str) -> list[str]:
    return re.findall(r'data-panel="([a-z-]+)"', html)


async def home(app: FastAPI, who: Party) -> str:
    async with portal_as(app, who) as http:
        page = await http.get("/")
    assert page.status_code == 200, page.text
    return page.text


async def book(
    client: httpx.AsyncClient, clerk: Party, patient_id: str, practitioner: Party, hour: float
) -> str:
    starts = NOW.replace(hour=0) + timedelta(hours=hour)
    answer = await client.post(
        "/api/appointments/",
        json={
            "patient_id": patient_id,
            "practitioner_id": str(practitioner.user.id),
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(minutes=30)).isoformat(),
            "reason": "Follow-up",
        },
        headers=clerk.headers,
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def schedule_day(client: httpx.AsyncClient, loop: Loop) -> None:
    """Today: the doctor at 10:00 and 11:00, the nurse at 10:30; one more of the doctor's
    is cancelled, one is tomorrow; the other clinic books its own doctor at 10:00."""
    for hour, who in ((10, loop.doctor), (11, loop.doctor), (10.5, loop.nurse)):
        await book(client, loop.clerk, loop.patient_id, who, hour)
    cancelled = await book(client, loop.clerk, loop.other_patient_id, loop.doctor, 14)
    answer = await client.post(f"/api/appointments/{cancelled}/cancel", headers=loop.clerk.headers)
    assert answer.status_code == 200, answer.text
    await book(client, loop.clerk, loop.patient_id, loop.doctor, 24 + 9)
    foreign = await add_patient(
        client, loop.extra["other_clerk"].headers, first_name="Zoe", last_name="Zeller"
    )
    await book(client, loop.extra["other_clerk"], foreign["id"], loop.other_doctor, 10)


@pytest.fixture
async def loop(client: httpx.AsyncClient, container: Container) -> Loop:
    built = await build_loop(client, container)
    built.extra["other_clerk"] = await party(container, built.other_clinic, Role.CLERK)
    return built


async def test_practitioners_and_the_front_desk_see_today_s_appointments(
    app: FastAPI, client: httpx.AsyncClient, loop: Loop
) -> None:
    await schedule_day(client, loop)

    doctor = await home(app, loop.doctor)
    today = panel(doctor, "schedule")
    assert today.startswith("Your appointments today 2 appointments today")
    assert "Lovelace, Ada" in today
    assert "10:00 UTC to 10:30 UTC" in today
    assert "11:00 UTC to 11:30 UTC" in today
    assert "14:00" not in today
    assert "09:00" not in today
    assert 'href="/appointments"' in doctor

    nurse = panel(await home(app, loop.nurse), "schedule")
    assert "1 appointment today" in nurse
    assert "10:30 UTC to 11:00 UTC" in nurse

    clerk = panel(await home(app, loop.clerk), "schedule")
    assert clerk.startswith("Appointments today 3 appointments today")
    doctor_name = loop.doctor.user.display_name
    assert f"10:00 UTC to 10:30 UTC · {doctor_name}" in clerk

    other = panel(await home(app, loop.extra["other_clerk"]), "schedule")
    assert "1 appointment today" in other
    assert "Zeller, Zoe" in other
    assert "Lovelace" not in other


async def test_a_patient_sees_the_next_visit_and_new_prescriptions(
    app: FastAPI, client: httpx.AsyncClient, loop: Loop
) -> None:
    before = await home(app, loop.patient)
    assert panel(before, "next-appointment").endswith("No appointment booked. Open my chart")
    assert "0 new prescriptions" in panel(before, "prescriptions")
    assert "schedule" not in panels(before)
    assert "review" not in panels(before)

    await book(client, loop.clerk, loop.patient_id, loop.doctor, 11)
    await book(client, loop.clerk, loop.patient_id, loop.doctor, 10)
    await book(client, loop.clerk, loop.other_patient_id, loop.doctor, 9)  # someone else's
    rx = await issued(client, loop)

    page = await home(app, loop.patient)
    visit = panel(page, "next-appointment")
    assert "2 upcoming appointments; the next one:" in visit
    assert f"{NOW:%a %d %b %Y}, 10:00 UTC Follow-up" in visit
    medicines = panel(page, "prescriptions")
    assert "1 new prescription in the last 14 days" in medicines
    assert "Amoxicillin" in medicines
    assert rx["number"] in medicines
    assert f'href="/prescriptions/{rx["id"]}"' in page

    stranger = await home(app, loop.stranger_patient)
    assert "0 new prescriptions" in panel(stranger, "prescriptions")
    assert "1 upcoming appointment;" in panel(stranger, "next-appointment")


async def test_the_pharmacist_sees_prescriptions_waiting(
    app: FastAPI, client: httpx.AsyncClient, loop: Loop
) -> None:
    assert "0 new prescriptions waiting" in panel(await home(app, loop.pharmacist), "pharmacy")
    rx = await issued(client, loop)
    page = await home(app, loop.pharmacist)
    waiting = panel(page, "pharmacy")
    assert "1 new prescription waiting" in waiting
    assert rx["number"] in waiting
    assert "Amoxicillin" in waiting
    assert 'href="/pharmacy/queue"' in page
    # Routed to the first pharmacy only.
    assert "0 new prescriptions waiting" in panel(await home(app, loop.pharmacist_b), "pharmacy")


async def test_reviewers_and_admins_see_credentials_waiting_and_expiring(
    app: FastAPI, client: httpx.AsyncClient, container: Container, loop: Loop
) -> None:
    user, headers = await practitioner(client, container, loop.clinic)
    files, entries = five_documents()
    soon = (date.today() + timedelta(days=10)).isoformat()
    entries[0] = metadata("medical_license", expires_on=soon)
    await submitted(client, headers, files=files, entries=entries)
    # Another clinic's submission counts for nobody here.
    _, foreign = await practitioner(client, container, loop.other_clinic)
    await submitted(client, foreign)

    reviewer = await home(app, loop.extra["reviewer"])
    waiting = panel(reviewer, "review")
    assert waiting.startswith("Waiting for review 5 documents waiting for review.")
    assert "Medical license" in waiting
    assert wants_attention(reviewer, "review")
    assert 'href="/credentials/review"' in reviewer
    expiring = panel(reviewer, "expiring")
    assert "1 credential expiring within 30 days" in expiring
    assert "expires in 10 days" in expiring
    assert 'href="/credentials/expiring"' in reviewer

    admin = await home(app, loop.org_admin)
    assert "1 credential expiring within 30 days" in panel(admin, "expiring")
    members = panel(admin, "users")
    # The loop's clinic: doctor, clerk, reviewer, colleague, nurse, admin, two patients,
    # and the practitioner above.
    assert members.startswith(
        "Users and invitations 9 active members, 0 deactivated, 0 pending invitations."
    )
    assert "review" not in panels(admin)

    owner = Party(user, headers)
    own = panel(await home(app, owner), "expiring")
    assert own.startswith("Your credentials expiring soon 1 credential expiring")
    assert "0 credentials expiring" in panel(await home(app, loop.doctor), "expiring")


async def test_everyone_sees_unread_notifications(
    app: FastAPI, container: Container, loop: Loop
) -> None:
    async with container.db.unit_of_work() as session:
        await notify(
            session,
            organization_id=loop.clinic.id,
            user_ids=[loop.clerk.user.id],
            kind="test.notice",
            title="Import finished",
            body="All rows written.",
            link="/notifications",
            dedupe_key="home-notice",
        )
    clerk = panel(await home(app, loop.clerk), "notifications")
    assert clerk.startswith("Notifications 1 unread notification.")
    assert "Import finished" in clerk
    assert wants_attention(await home(app, loop.clerk), "notifications")
    assert not wants_attention(await home(app, loop.doctor), "notifications")
    for who in (loop.doctor, loop.patient, loop.pharmacist, loop.org_admin):
        assert "0 unread notifications" in panel(await home(app, who), "notifications")


async def test_the_front_desk_sees_requests_and_the_admin_pending_invitations(
    app: FastAPI, client: httpx.AsyncClient, loop: Loop
) -> None:
    assert "0 requests waiting" in panel(await home(app, loop.clerk), "requests")
    window = NOW + timedelta(hours=3)
    asked = await client.post(
        "/api/appointments/requests",
        json={
            "practitioner_id": str(loop.doctor.user.id),
            "window_start": window.isoformat(),
            "window_end": (window + timedelta(hours=2)).isoformat(),
            "reason": "Knee pain",
        },
        headers=loop.patient.headers,
    )
    assert asked.status_code == 201, asked.text
    page = await home(app, loop.clerk)
    waiting = panel(page, "requests")
    assert "1 request waiting for a decision." in waiting
    assert f"Lovelace, Ada from {window:%a %d %b %Y}, 11:00 UTC" in waiting
    assert wants_attention(page, "requests")
    assert 'href="/appointments/requests"' in page
    assert "requests" not in panels(await home(app, loop.doctor))
    assert "0 requests waiting" in panel(await home(app, loop.extra["other_clerk"]), "requests")

    invited = await client.post(
        "/api/invitations",
        json={"email": "new.nurse@example.org", "roles": ["nurse"]},
        headers=loop.org_admin.headers,
    )
    assert invited.status_code == 201, invited.text
    admin = await home(app, loop.org_admin)
    members = panel(admin, "users")
    assert "1 pending invitation." in members
    assert "new.nurse@example.org invited, link valid until" in members
    assert 'href="/users/invitations"' in admin
