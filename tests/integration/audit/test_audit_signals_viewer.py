"""The portal's audit viewer: a member found by name, events in words, the chart's
"who opened this chart" link, and off-hours findings for staff only, grouped by night."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from html import unescape

import httpx
from fastapi import FastAPI
from tests.factories import (
    DEFAULT_PASSWORD,
    auth_headers,
    create_org,
    create_user,
    login,
    unique,
)
from tests.integration.web.portal_helpers import sign_in

from clinvault.audit.recorder import event_mac
from clinvault.bootstrap import Container
from clinvault.context import RequestContext
from clinvault.identity.principal import Principal, Role
from clinvault.ids import uuid7
from clinvault.models.identity import Organization, User

DAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=3)
PATIENT = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "date_of_birth": "1985-12-10",
    "gender": "female",
    "phone": "+44 20 7183 8750",
}


@asynccontextmanager
async def portal(app: FastAPI, user: User) -> AsyncIterator[httpx.AsyncClient]:
    """A portal session of `user`, signed in through the sign-in form."""
    transport = httpx.ASGITransport(app=app, client=("198.51.100.9", 4444))
    async with httpx.AsyncClient(
        transport=transport, base_url="https://testserver", follow_redirects=False
    ) as http:
        signed = await sign_in(http, user.email)
        assert signed.status_code == 303, signed.text
        yield http


async def staff(container: Container, org: Organization, role: Role, name: str) -> User:
    """A member called `name`, whose email is made of it ("Dr Kwame Osei": kwame.osei.…)."""
    slug = ".".join(part.lower() for part in name.split() if part != "Dr")
    email = f"{slug}.{unique('u')}@example.org"
    return await create_user(container, org, roles=[role], display_name=name, email=email)


async def api_headers(client: httpx.AsyncClient, user: User) -> dict[str, str]:
    return auth_headers((await login(client, user.email, DEFAULT_PASSWORD))["access_token"])


async def add_patient(client: httpx.AsyncClient, headers: dict[str, str], **fields: str) -> str:
    response = await client.post("/api/patients/", json={**PATIENT, **fields}, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def reference(patient_id: str) -> str:
    return "P-" + patient_id.replace("-", "")[-8:].upper()


async def test_the_actor_filter_finds_members_by_name_or_email(
    app: FastAPI, client: httpx.AsyncClient, container: Container
) -> None:
    org, other = await create_org(container), await create_org(container)
    admin = await create_user(container, org, roles=[Role.ORG_ADMIN], display_name="Alex Admin")
    doctor = await staff(container, org, Role.DOCTOR, "Dr Kwame Osei")
    clerk = await staff(container, org, Role.CLERK, "Casey Desk")
    namesake = await staff(container, other, Role.DOCTOR, "Dr Kwame Osei")
    for user in (doctor, clerk, namesake):
        await login(client, user.email)

    async with portal(app, admin) as page:
        for typed in ("osei", "KWAME.OSEI", "  Dr  Kwame "):
            found = await page.get("/audit", params={"actor": typed})
            assert found.status_code == 200, found.text
            text = unescape(found.text)
            assert "Events of 1 member matching" in text
            assert "Dr Kwame Osei signed in" in text
            assert "Casey Desk signed in" not in text
            assert str(namesake.id) not in text
        by_id = await page.get("/audit", params={"actor": str(clerk.id)})
        assert "Casey Desk signed in" in unescape(by_id.text)
        assert "Dr Kwame Osei signed in" not in unescape(by_id.text)
        nobody = await page.get("/audit", params={"actor": "Nobody Here"})
        assert nobody.status_code == 400
        assert 'id="actor-error"' in nobody.text
        assert 'aria-describedby="actor-error"' in nobody.text


async def test_events_are_told_in_words_without_patient_names(
    app: FastAPI, client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    admin = await create_user(container, org, roles=[Role.ORG_ADMIN], display_name="Alex Admin")
    doctor = await staff(container, org, Role.DOCTOR, "Dr Kwame Osei")
    clerk = await staff(container, org, Role.CLERK, "Casey Desk")
    patient_id = await add_patient(client, await api_headers(client, clerk))
    async with portal(app, doctor) as page:
        assert (await page.get(f"/patients/{patient_id}")).status_code == 200
    wrong = {"username": doctor.email, "password": "not the password"}
    assert (await client.post("/api/auth/login", json=wrong)).status_code == 401

    async with portal(app, admin) as page:
        text = unescape((await page.get("/audit")).text)
    assert "Casey Desk registered a patient" in text
    assert f"Dr Kwame Osei opened the chart of patient {reference(patient_id)}" in text
    assert "Sign-in refused: wrong password (Dr Kwame Osei)" in text
    assert '<svg class="activity-chart"' in text
    assert "Events per hour" in text  # the count axis is titled
    assert "Time (UTC, hour starting)" in text  # and the time axis
    assert "Activity per hour as a table" in text
    for phi in ("Lovelace", "Ada ", "1985-12-10", "7183"):
        assert phi not in text


async def test_the_chart_links_to_who_opened_it(
    app: FastAPI, client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    admin = await create_user(container, org, roles=[Role.ORG_ADMIN], display_name="Alex Admin")
    doctor = await staff(container, org, Role.DOCTOR, "Dr Kwame Osei")
    clerk = await staff(container, org, Role.CLERK, "Casey Desk")
    clerk_headers = await api_headers(client, clerk)
    first = await add_patient(client, clerk_headers)
    second = await add_patient(client, clerk_headers, first_name="Mary", last_name="Somerville")
    async with portal(app, doctor) as page:
        chart = await page.get(f"/patients/{first}")
        assert chart.status_code == 200
        assert "Who opened this chart" not in chart.text  # a doctor cannot read the log
    async with portal(app, clerk) as page:
        assert (await page.get(f"/patients/{second}")).status_code == 200

    async with portal(app, admin) as page:
        chart = await page.get(f"/patients/{first}")
        link = f'href="/audit?resource_type=patient&amp;resource_id={first}">Who opened this chart'
        assert link in chart.text
        audit = await page.get("/audit", params={"resource_type": "patient", "resource_id": first})
    assert audit.status_code == 200
    text = unescape(audit.text)
    assert f"Dr Kwame Osei opened the chart of patient {reference(first)}" in text
    assert f"Alex Admin opened the chart of patient {reference(first)}" in text
    assert reference(second) not in text
    assert "Casey Desk opened" not in text


async def record_as(
    container: Container, user: User, roles: frozenset[Role], moments: list[datetime]
) -> None:
    """Events of `user` at chosen instants, carrying the roles a real request would."""
    principal = Principal(user_id=user.id, organization_id=user.organization_id, roles=roles)
    async with container.db.unit_of_work() as session:
        for moment in moments:
            ctx = RequestContext(
                request_id=uuid7().hex[:24],
                method="GET",
                path="/api/auth/profile",
                client_ip="192.0.2.60",
                action="auth.profile",
                principal=principal,
            )
            event = container.audit.build(ctx, 200)
            event.occurred_at = moment
            event.mac = event_mac(container.audit.key, event)
            session.add(event)


async def test_off_hours_findings_are_for_staff_only_and_grouped_by_night(
    app: FastAPI, client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    admin = await create_user(container, org, roles=[Role.ORG_ADMIN], display_name="Alex Admin")
    nurse = await staff(container, org, Role.NURSE, "Nina Night")
    patient = await create_user(container, org, roles=[Role.PATIENT], display_name="Paula Patient")
    one_night = [DAY.replace(hour=21), DAY.replace(hour=23), DAY + timedelta(hours=26)]
    next_night = [DAY + timedelta(days=1, hours=22)]
    await record_as(container, nurse, frozenset({Role.NURSE}), one_night + next_night)
    await record_as(
        container, patient, frozenset({Role.PATIENT}), [DAY.replace(hour=h) for h in (1, 2, 3)]
    )

    window = {"from": DAY.isoformat(), "to": (DAY + timedelta(days=2)).isoformat()}
    body = (
        await client.get(
            "/api/audit/suspicious", params=window, headers=await api_headers(client, admin)
        )
    ).json()
    found = sorted(
        (f["first_at"], f["actor_id"], f["count"])
        for f in body["findings"]
        if f["kind"] == "outside_hours"
    )
    assert [(actor, count) for _, actor, count in found] == [(str(nurse.id), 3), (str(nurse.id), 1)]
    assert str(patient.id) not in str(body)

    async with portal(app, admin) as page:
        since, until = DAY.date().isoformat(), (DAY + timedelta(days=1)).date().isoformat()
        text = unescape((await page.get("/audit", params={"since": since, "until": until})).text)
    section = text.split("Staff activity outside business hours")[1].split("</table>")[0]
    assert section.count('class="outside-hours__row"') == 2
    assert section.count("Nina Night") == 2
    assert "Paula Patient" not in section
    assert f"actor={nurse.id}" in section  # each row links to the nurse's own events
