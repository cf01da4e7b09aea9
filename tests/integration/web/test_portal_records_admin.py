"""Appointment booking with clashes, user administration and the audit viewer in the portal."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx
from fastapi import FastAPI
from portal_helpers import post_form
from sqlalchemy import func, select
from test_portal_records import browser, register
from tests.factories import create_org, create_user

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role
from clinvault.models.identity import User
from clinvault.models.records import Appointment


async def appointments(container: Container) -> int:
    async with container.db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Appointment)) or 0)


async def test_booking_shows_a_clash_inline_naming_the_slot(
    app: FastAPI, container: Container
) -> None:
    org = await create_org(container)
    doctor = await create_user(container, org, roles=[Role.DOCTOR], display_name="Dr Ama Mensah")
    day = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    async with browser(app, org, container, Role.ORG_ADMIN) as admin:
        chart = await register(admin)
        booking = f"{chart}/appointments/new"
        form = await admin.get(booking)
        assert form.status_code == 200
        assert f'<option value="{doctor.id}">Dr Ama Mensah</option>' in form.text

        slot = {
            "practitioner_id": str(doctor.id),
            "day": day,
            "start": "09:00",
            "minutes": "30",
            "reason": "Follow-up <i>visit</i>",
        }
        booked = await post_form(admin, booking, booking, slot)
        assert booked.status_code == 303
        assert booked.headers["location"] == f"{chart}?notice=booked"
        shown = await admin.get(booked.headers["location"])
        assert "Appointment booked." in shown.text
        assert "Dr Ama Mensah" in shown.text
        assert "Follow-up &lt;i&gt;visit&lt;/i&gt;" in shown.text

        clash = await post_form(admin, booking, booking, {**slot, "start": "09:15"})
        assert clash.status_code == 409
        assert 'id="clash"' in clash.text
        on = date.fromisoformat(day)
        assert (
            f"Dr Ama Mensah already has an appointment at 09:00 UTC on {on.day} {on:%B %Y} "
            "(until 09:30 UTC)."
        ) in clash.text
        assert await appointments(container) == 1

        bad = await post_form(
            admin,
            booking,
            booking,
            {**slot, "day": "31/12/2030"},
        )
        assert bad.status_code == 400
        assert 'id="day-error"' in bad.text
        past = await post_form(admin, booking, booking, {**slot, "day": "2020-01-01"})
        assert past.status_code == 400  # found before booking, with any other problem
        assert 'id="start-error"' in past.text
        assert "not in the past" in past.text
        nobody = await post_form(admin, booking, booking, {**slot, "practitioner_id": ""})
        assert nobody.status_code == 400
        assert 'id="practitioner_id-error"' in nobody.text
        assert await appointments(container) == 1

        schedule = await admin.get("/appointments", params={"start": day, "days": "1"})
        assert schedule.status_code == 200
        assert "1 appointment in 1 day" in schedule.text
        assert "Okafor, Grace" in schedule.text

        cancel_page = await admin.get(chart)
        cancel = f"/appointments/{(await only_appointment(container))}/cancel"
        assert f'href="{cancel}?back=' in cancel_page.text  # the chart links to the confirmation
        cancelled = await post_form(admin, cancel, cancel, {"back": chart, "why": "Unwell"})
        assert cancelled.status_code == 303
        assert cancelled.headers["location"] == f"{chart}?notice=cancelled"
        assert "Appointment cancelled." in (await admin.get(cancelled.headers["location"])).text
        assert cancel_page.status_code == 200


async def only_appointment(container: Container) -> str:
    async with container.db.sessions() as session:
        found = await session.scalar(select(Appointment.id))
    assert found is not None
    return str(found)


async def test_doctors_see_their_schedule_and_clerks_cannot_list_users(
    app: FastAPI, container: Container
) -> None:
    org = await create_org(container)
    async with browser(app, org, container, Role.DOCTOR) as doctor:
        page = await doctor.get("/appointments")
        assert page.status_code == 200
        assert '<option value="' in page.text
        assert "My schedule" in page.text
        assert "0 appointments" in page.text
        assert (await doctor.get("/users")).status_code == 403
        assert (await doctor.get("/audit")).status_code == 403
    async with browser(app, org, container, Role.CLERK) as clerk:
        chart = await register(clerk)
        form = await clerk.get(f"{chart}/appointments/new")
        assert form.status_code == 200
        # Clerks choose the practitioner by name from the organization's doctors and nurses.
        assert '<select id="practitioner_id" name="practitioner_id"' in form.text
        assert 'name="practitioner_id" type="text"' not in form.text
        assert (await clerk.get("/users/new")).status_code == 403


async def test_an_admin_creates_a_user_changes_roles_and_deactivates(
    app: FastAPI, container: Container
) -> None:
    org = await create_org(container)
    async with browser(app, org, container, Role.ORG_ADMIN) as admin:
        listing = await admin.get("/users")
        assert listing.status_code == 200
        assert "1 user" in listing.text

        refused = await post_form(
            admin,
            "/users/new",
            "/users/new",
            {"display_name": "", "email": "nope", "password": "short"},
        )
        assert refused.status_code == 400
        assert 'id="display_name-error"' in refused.text
        assert "Enter a valid email address" in refused.text
        assert "Choose at least one role" in refused.text

        weak = await post_form(
            admin,
            "/users/new",
            "/users/new",
            {
                "display_name": "<b>Nia</b>",
                "email": "nia@example.org",
                "password": "short",
                "roles": ["nurse"],
            },
        )
        assert weak.status_code == 422
        assert 'id="password-error"' in weak.text

        created = await post_form(
            admin,
            "/users/new",
            "/users/new",
            {
                "display_name": "<b>Nia</b>",
                "email": "nia@example.org",
                "password": "a long enough passphrase",
                "roles": ["nurse"],
            },
        )
        assert created.status_code == 303
        user_page = created.headers["location"].split("?")[0]
        shown = await admin.get(created.headers["location"])
        assert "Account created." in shown.text
        assert "&lt;b&gt;Nia&lt;/b&gt;" in shown.text
        assert "<b>Nia</b>" not in shown.text

        no_roles = await post_form(admin, user_page, f"{user_page}/roles", {})
        assert no_roles.status_code == 400
        assert "Choose at least one role" in no_roles.text
        changed = await post_form(
            admin, user_page, f"{user_page}/roles", {"roles": ["doctor", "clerk"]}
        )
        assert changed.status_code == 303
        off = await post_form(admin, user_page, f"{user_page}/deactivate", {})
        assert off.status_code == 303
        assert "Account deactivated" in (await admin.get(off.headers["location"])).text

        async with container.db.sessions() as session:
            nia = await session.scalar(select(User).where(User.email == "nia@example.org"))
        assert nia is not None
        assert sorted(nia.roles) == ["clerk", "doctor"]
        assert not nia.is_active

        inactive = await admin.get("/users", params={"status": "inactive"})
        assert "nia@example.org" in inactive.text
        assert "1 user" in inactive.text

        own_id = admin.headers["x-test-user"]
        own_page = await admin.get(f"/users/{own_id}")
        assert "You cannot deactivate your own account" in own_page.text
        self_off = await post_form(
            admin, f"/users/{own_id}", f"/users/{own_id}/roles", {"roles": ["clerk"]}
        )
        assert self_off.status_code == 409

    other = await create_org(container)
    stranger = await create_user(container, other, roles=[Role.NURSE])
    async with browser(app, org, container, Role.ORG_ADMIN) as admin:
        assert (await admin.get(f"/users/{stranger.id}")).status_code == 404


async def test_the_audit_viewer_filters_and_draws_hourly_bars(
    app: FastAPI, container: Container
) -> None:
    org = await create_org(container)
    async with browser(app, org, container, Role.ORG_ADMIN) as admin:
        await admin.get("/patients")
        page = await admin.get("/audit")
        assert page.status_code == 200
        assert '<svg class="activity-chart"' in page.text
        assert page.text.count('class="activity-chart__bar"') >= 24
        assert "portal.patient.list" in page.text
        assert "Suspicious activity" in page.text

        filtered = await admin.get("/audit", params={"action": "portal.patient"})
        assert filtered.status_code == 200
        assert "<code>portal.patient.list</code>" in filtered.text
        assert "<code>auth.login" not in filtered.text

        today = datetime.now(UTC).date().isoformat()
        window = await admin.get("/audit", params={"since": today, "until": today})
        assert window.status_code == 200
        assert window.text.count('class="activity-chart__bar"') == 24

        bad = await admin.get("/audit", params={"since": "yesterday", "actor": "me"})
        assert bad.status_code == 400
        assert 'id="since-error"' in bad.text
        assert 'id="actor-error"' in bad.text
        too_wide = await admin.get("/audit", params={"since": "2024-01-01", "until": "2024-06-01"})
        assert too_wide.status_code == 200
        assert "at most 31 days" in too_wide.text
        escaped = await admin.get("/audit", params={"action": "<script>"})
        assert "&lt;script&gt;" in escaped.text
        assert 'value="<script>"' not in escaped.text


async def test_a_clerk_is_refused_the_audit_viewer(app: FastAPI, container: Container) -> None:
    org = await create_org(container)
    async with browser(app, org, container, Role.CLERK) as clerk:
        refused = await clerk.get("/audit", params={"since": "nonsense"})
        assert refused.status_code == 403
        assert isinstance(refused, httpx.Response)
