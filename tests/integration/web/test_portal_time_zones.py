"""Time zones in the portal: choosing them on the Profile page, and booking read in them.

Times are stored in UTC and the JSON API answers in UTC; the portal shows and
reads them on the viewer's wall clock (the user's zone, else the
organization's, else UTC).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from portal_helpers import post_form, sign_in
from sqlalchemy import select
from tests.factories import auth_headers, create_org, create_user, login

from clinvault.bootstrap import Container
from clinvault.errors import PermissionDenied
from clinvault.identity.principal import Principal, Role
from clinvault.identity.time_zone_service import TimeZoneService
from clinvault.models.identity import Organization, User
from clinvault.models.records import Appointment

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# A winter day (CST, UTC-6), the spring-forward day and the fall-back day of 2027 in Chicago.
WINTER_DAY = "2027-01-12"
SPRING_FORWARD = "2027-03-14"
FALL_BACK = "2027-11-07"


@asynccontextmanager
async def portal_as(app: FastAPI, user: User) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("198.51.100.9", 4444))
    async with httpx.AsyncClient(
        transport=transport, base_url="https://testserver", follow_redirects=False
    ) as http:
        signed = await sign_in(http, user.email)
        assert signed.status_code == 303, signed.text
        yield http


async def zones(container: Container, org: Organization, user: User) -> tuple[str | None, ...]:
    async with container.db.sessions() as session:
        own = await session.scalar(select(User.time_zone).where(User.id == user.id))
        theirs = await session.scalar(
            select(Organization.time_zone).where(Organization.id == org.id)
        )
    return own, theirs


async def set_zone(portal: httpx.AsyncClient, action: str, field: str, name: str) -> httpx.Response:
    return await post_form(portal, "/profile", action, {field: name})


async def test_a_user_chooses_their_zone_and_an_unknown_name_is_refused_on_its_field(
    app: FastAPI, container: Container
) -> None:
    org = await create_org(container)
    nurse = await create_user(container, org, roles=[Role.NURSE])
    async with portal_as(app, nurse) as portal:
        profile = await portal.get("/profile")
        assert profile.status_code == 200
        assert 'id="time-zone"' in profile.text
        assert '<strong data-testid="viewer-zone">UTC</strong>' in profile.text
        assert '<option value="America/Chicago">' in profile.text
        # Only an administrator sees the organization's form.
        assert "/organization/time-zone" not in profile.text

        refused = await set_zone(portal, "/profile/time-zone", "time_zone", "Mars/Olympus")
        assert refused.status_code == 400
        assert 'id="time_zone-error"' in refused.text
        assert "“Mars/Olympus” is not a time zone we know" in refused.text
        assert 'value="Mars/Olympus"' in refused.text
        assert 'aria-describedby="time_zone-hint time_zone-error"' in refused.text
        assert await zones(container, org, nurse) == (None, None)

        saved = await set_zone(portal, "/profile/time-zone", "time_zone", "Asia/Kolkata")
        assert saved.status_code == 303
        assert saved.headers["location"] == "/profile?notice=time-zone#time-zone"
        assert await zones(container, org, nurse) == ("Asia/Kolkata", None)
        shown = await portal.get("/profile", params={"notice": "time-zone"})
        assert "Your time zone is saved" in shown.text
        assert '<strong data-testid="viewer-zone">Asia/Kolkata (IST)</strong>' in shown.text

        cleared = await set_zone(portal, "/profile/time-zone", "time_zone", "")
        assert cleared.status_code == 303
        assert await zones(container, org, nurse) == (None, None)

    # The organization's zone is its administrators' to set, whatever is posted.
    principal = Principal(user_id=nurse.id, organization_id=org.id, roles=frozenset({Role.NURSE}))
    async with container.db.unit_of_work() as session:
        with pytest.raises(PermissionDenied):
            await TimeZoneService(session, container).set_organization(principal, "Europe/Paris")
    assert await zones(container, org, nurse) == (None, None)


async def test_the_organization_administrator_sets_the_zone_members_without_their_own_see(
    app: FastAPI, container: Container
) -> None:
    org = await create_org(container)
    admin = await create_user(container, org, roles=[Role.ORG_ADMIN])
    clerk = await create_user(container, org, roles=[Role.CLERK])
    async with portal_as(app, admin) as portal:
        action = "/organization/time-zone"
        refused = await set_zone(portal, action, "organization_time_zone", "America/Chicgo")
        assert refused.status_code == 400
        assert 'id="organization_time_zone-error"' in refused.text
        saved = await set_zone(portal, action, "organization_time_zone", "America/Chicago")
        assert saved.status_code == 303
        assert await zones(container, org, admin) == (None, "America/Chicago")
    async with portal_as(app, clerk) as portal:
        profile = await portal.get("/profile")
        assert re.search(r'data-testid="viewer-zone">America/Chicago \(C[DS]T\)<', profile.text)
        assert "your organization&#39;s time zone" in profile.text


async def test_a_booking_is_read_in_the_viewers_zone_stored_in_utc_and_shown_back_in_it(
    app: FastAPI, container: Container, client: httpx.AsyncClient
) -> None:
    org = await create_org(container)
    async with container.db.unit_of_work() as session:
        row = await session.get(Organization, org.id)
        assert row is not None
        row.time_zone = "America/Chicago"
    clerk = await create_user(container, org, roles=[Role.CLERK])
    doctor = await create_user(container, org, roles=[Role.DOCTOR], display_name="Dr Kwame Osei")
    paris = await create_user(container, org, roles=[Role.NURSE])
    async with container.db.unit_of_work() as session:
        nurse_row = await session.get(User, paris.id)
        assert nurse_row is not None
        nurse_row.time_zone = "Europe/Paris"
    headers = auth_headers((await login(client, clerk.email))["access_token"])
    created = await client.post(
        "/api/patients/",
        json={
            "first_name": "Grace",
            "last_name": "Okafor",
            "date_of_birth": "1980-02-29",
            "gender": "female",
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    patient_id = created.json()["id"]
    booking = f"/patients/{patient_id}/appointments/new"
    slot = {"practitioner_id": str(doctor.id), "day": WINTER_DAY, "start": "10:00"}
    slot |= {"minutes": "30", "reason": "Check-up"}

    async with portal_as(app, clerk) as portal:
        form = await portal.get(booking)
        assert "Date and start time are in your time zone, America/Chicago (CST)" in form.text
        assert 'name="timezone"' not in form.text
        booked = await post_form(portal, booking, booking, slot)
        assert booked.status_code == 303, booked.text
        async with container.db.sessions() as session:
            stored = (await session.scalars(select(Appointment))).one()
        assert stored.starts_at.replace(tzinfo=UTC) == datetime(2027, 1, 12, 16, 0, tzinfo=UTC)

        schedule = await portal.get("/appointments", params={"start": WINTER_DAY, "days": "1"})
        assert "1 appointment in 1 day" in schedule.text
        assert "(times in America/Chicago (C" in schedule.text
        assert '<time datetime="2027-01-12T16:00:00+00:00">12 Jan 2027 10:00 CST</time>' in (
            schedule.text
        )
        chart = await portal.get(f"/patients/{patient_id}")
        assert "12 Jan 2027 10:00 CST" in chart.text

        clash = await post_form(portal, booking, booking, {**slot, "start": "10:15"})
        assert clash.status_code == 409
        alert = clash.text.split('id="clash"')[1].split("</div>")[0]
        assert (
            "Dr Kwame Osei already has an appointment at 10:00 CST on 12 January 2027 "
            "(until 10:30 CST)."
        ) in alert
        assert not UUID.search(alert)
        assert "Okafor" not in alert

        gap = await post_form(
            portal, booking, booking, {**slot, "day": SPRING_FORWARD, "start": "02:30"}
        )
        assert gap.status_code == 400
        assert 'id="start-error"' in gap.text
        assert "02:30 does not exist on 14 March 2027 in America/Chicago" in gap.text

        twice = await post_form(
            portal, booking, booking, {**slot, "day": FALL_BACK, "start": "01:30"}
        )
        assert twice.status_code == 303, twice.text
        async with container.db.sessions() as session:
            starts = set(await session.scalars(select(Appointment.starts_at)))
        # 01:30 happens twice that night: the first one, still on summer time (UTC-5).
        assert datetime(2027, 11, 7, 6, 30) in {s.replace(tzinfo=None) for s in starts}

    # The JSON API still speaks UTC.
    listed = await client.get(
        "/api/appointments/", params={"patient_id": patient_id}, headers=headers
    )
    assert listed.status_code == 200, listed.text
    utc_starts = {item["starts_at"] for item in listed.json()["items"]}
    assert any(text.startswith("2027-01-12T16:00:00") for text in utc_starts)

    # A member with their own zone sees the same appointment on their own clock.
    async with portal_as(app, paris) as portal:
        schedule = await portal.get(
            "/appointments", params={"start": WINTER_DAY, "days": "1", "practitioner": "all"}
        )
        assert "12 Jan 2027 17:00 CET" in schedule.text


async def test_a_records_observation_time_is_read_on_the_viewers_clock(
    app: FastAPI, container: Container, client: httpx.AsyncClient
) -> None:
    org = await create_org(container)
    doctor = await create_user(container, org, roles=[Role.DOCTOR])
    async with container.db.unit_of_work() as session:
        row = await session.get(User, doctor.id)
        assert row is not None
        row.time_zone = "America/Chicago"
    headers = auth_headers((await login(client, doctor.email))["access_token"])
    created = await client.post(
        "/api/patients/",
        json={"first_name": "Ada", "last_name": "Byron", "date_of_birth": "1985-12-10"}
        | {"gender": "female"},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    patient_id = created.json()["id"]
    page = f"/patients/{patient_id}/records/new"
    fields = {"record_type": "lab_result", "priority": "normal", "title": "Lipids"}
    fields |= {"content": "LDL 3.1 mmol/L."}
    async with portal_as(app, doctor) as portal:
        form = await portal.get(page)
        assert "In your time zone, America/Chicago (C" in form.text
        gap = await post_form(portal, page, page, {**fields, "recorded_at": "2026-03-08T02:30"})
        assert gap.status_code == 400
        assert 'id="recorded_at-error"' in gap.text
        assert "02:30 does not exist on 8 March 2026 in America/Chicago" in gap.text
        saved = await post_form(portal, page, page, {**fields, "recorded_at": "2026-01-12T10:00"})
        assert saved.status_code == 303, saved.text
        chart = await portal.get(f"/patients/{patient_id}")
        assert "12 Jan 2026 10:00 CST" in chart.text
    records = await client.get("/api/records/", params={"patient_id": patient_id}, headers=headers)
    assert records.status_code == 200, records.text
    assert records.json()["items"][0]["recorded_at"].startswith("2026-01-12T16:00:00")
