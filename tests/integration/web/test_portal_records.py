"""Patients, charts, records and My chart in the portal, over HTTP with real sessions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta

import httpx
from fastapi import FastAPI
from portal_helpers import form_token, post_form, sign_in
from sqlalchemy import func, select
from tests.factories import create_org, create_user

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role
from clinvault.models.identity import Organization
from clinvault.models.records import MedicalRecord, Patient

SCRIPT_NAME = "<script>alert(1)</script>"
ESCAPED_NAME = "&lt;script&gt;alert(1)&lt;/script&gt;"


@asynccontextmanager
async def browser(
    app: FastAPI, org: Organization, container: Container, role: Role
) -> AsyncIterator[httpx.AsyncClient]:
    """A signed-in portal client for a new member of `org` holding `role`."""
    user = await create_user(container, org, roles=[role], display_name=f"{role.value} user")
    transport = httpx.ASGITransport(app=app, client=("198.51.100.7", 4444))
    async with httpx.AsyncClient(
        transport=transport, base_url="https://testserver", follow_redirects=False
    ) as http:
        signed = await sign_in(http, user.email)
        assert signed.status_code == 303, signed.text
        http.headers["x-test-user"] = str(user.id)
        yield http


async def count(container: Container, model: type[Patient] | type[MedicalRecord]) -> int:
    async with container.db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def patient_fields(**overrides: str) -> dict[str, str]:
    fields = {
        "first_name": "Grace",
        "last_name": "Okafor",
        "date_of_birth": "1980-02-29",
        "gender": "female",
        "mrn": "",
        "phone": "+15550100199",
        "email": "grace@example.org",
        "address": "1 Harbour Road",
        "blood_type": "A+",
        "allergies": "latex",
        "emergency_contact": "Ola Okafor",
        "ssn": "123-45-6789",
    }
    fields.update(overrides)
    return fields


async def register(clerk: httpx.AsyncClient, **overrides: str) -> str:
    """Register through the form; the chart path the portal redirects to."""
    created = await post_form(clerk, "/patients/new", "/patients/new", patient_fields(**overrides))
    assert created.status_code == 303, created.text
    location = created.headers["location"]
    assert location.endswith("?notice=registered")
    return location.split("?")[0]


async def test_a_clerk_registers_a_patient_with_per_field_errors_first(
    app: FastAPI, container: Container
) -> None:
    org = await create_org(container)
    async with browser(app, org, container, Role.CLERK) as clerk:
        home = await clerk.get("/")
        assert '<a href="/patients">Patients</a>' in home.text
        assert '<a href="/audit">' not in home.text

        tomorrow = (date.today() + timedelta(days=1)).isoformat()
        refused = await post_form(
            clerk,
            "/patients/new",
            "/patients/new",
            patient_fields(
                first_name="",
                date_of_birth=tomorrow,
                phone="call me",
                email="not-an-email",
                blood_type="C+",
            ),
        )
        assert refused.status_code == 400
        page = refused.text
        assert '<p class="field__error" id="first_name-error">Enter the first name.</p>' in page
        assert "must not be in the future" in page
        assert 'id="phone-error"' in page
        assert "Enter a valid email address" in page
        assert 'id="blood_type-error"' in page
        assert 'value="Okafor"' in page  # what was typed is kept
        assert "123-45-6789" not in page  # the SSN is never sent back
        assert await count(container, Patient) == 0

        chart_path = await register(clerk, first_name=SCRIPT_NAME)
        chart = await clerk.get(chart_path + "?notice=registered")
        assert chart.status_code == 200
        assert "Patient registered." in chart.text
        assert ESCAPED_NAME in chart.text
        assert SCRIPT_NAME not in chart.text
        assert "•••-••-6789" in chart.text
        assert "shown to administrators, doctors and nurses only" in chart.text
        assert "Add a record" not in chart.text
        assert "Book an appointment" in chart.text

        listing = await clerk.get("/patients")
        assert "1 patient" in listing.text
        assert ESCAPED_NAME in listing.text
        assert SCRIPT_NAME not in listing.text
        found = await clerk.get("/patients", params={"q": "oka"})
        assert found.status_code == 200
        assert "matching “oka”" in found.text
        assert f'href="{chart_path}"' in found.text
        nobody = await clerk.get("/patients", params={"q": "zz"})
        assert "0 patients" in nobody.text
        assert "No patients found." in nobody.text
        too_short = await clerk.get("/patients", params={"q": "o"})
        assert too_short.status_code == 400
        assert 'id="q-error"' in too_short.text
        beyond = await clerk.get("/patients", params={"page": "9"})
        assert beyond.status_code == 200
        assert "no patients on this page" in beyond.text

        taken_mrn = (await clerk.get(chart_path)).text.split("Medical record number</dt><dd>")[1]
        mrn = taken_mrn.split("<")[0]
        duplicate = await post_form(
            clerk, "/patients/new", "/patients/new", patient_fields(mrn=mrn)
        )
        assert duplicate.status_code == 400  # found with the other fields' problems
        assert 'id="mrn-error"' in duplicate.text
        assert "Another patient has this medical record number" in duplicate.text
        assert await count(container, Patient) == 1


async def test_a_doctor_adds_a_record_and_the_patient_sees_it_in_my_chart(
    app: FastAPI, container: Container
) -> None:
    org = await create_org(container)
    async with (
        browser(app, org, container, Role.CLERK) as clerk,
        browser(app, org, container, Role.DOCTOR) as doctor,
    ):
        chart_path = await register(clerk)
        patient_id = chart_path.rsplit("/", 1)[1]
        new_record = f"{chart_path}/records/new"
        assert (await clerk.get(new_record)).status_code == 403

        form = await doctor.get(new_record)
        assert form.status_code == 200
        assert '<option value="lab_result">Lab result</option>' in form.text
        missing = await doctor.post(
            new_record,
            data={
                "record_type": "",
                "priority": "normal",
                "title": "",
                "content": "x" * 10,
                "recorded_at": "2999-01-01T10:00",
                "csrf_token": form_token(form.text, new_record),
            },
        )
        assert missing.status_code == 400
        assert 'id="record_type-error"' in missing.text
        assert 'id="title-error"' in missing.text
        assert "not in the future" in missing.text
        assert await count(container, MedicalRecord) == 0

        added = await post_form(
            doctor,
            new_record,
            new_record,
            {
                "record_type": "lab_result",
                "priority": "high",
                "title": "HbA1c <b>raised</b>",
                "content": "HbA1c 7.1% — repeat in 3 months.",
                "recorded_at": "2024-05-01T09:30",
            },
        )
        assert added.status_code == 303
        assert added.headers["location"] == f"{chart_path}?notice=record-added"
        chart = await doctor.get(added.headers["location"])
        assert "Record added to the chart." in chart.text
        assert "HbA1c &lt;b&gt;raised&lt;/b&gt;" in chart.text
        assert "01 May 2024 09:30 UTC" in chart.text
        assert "Lab result" in chart.text

    patient_user = await create_user(container, org, roles=[Role.PATIENT])
    async with browser(app, org, container, Role.CLERK) as clerk:
        linked = await clerk.post(
            f"/api/patients/{patient_id}/link-user",
            json={"user_id": str(patient_user.id)},
            headers={"authorization": "Bearer " + (await api_token(clerk, app))},
        )
        assert linked.status_code == 200, linked.text
        other_chart = await register(
            clerk, first_name="Someone", last_name="Else", phone="+15550100188"
        )

    transport = httpx.ASGITransport(app=app, client=("198.51.100.8", 4444))
    async with httpx.AsyncClient(
        transport=transport, base_url="https://testserver", follow_redirects=False
    ) as patient:
        assert (await sign_in(patient, patient_user.email)).status_code == 303
        home = await patient.get("/")
        assert '<a href="/my-chart">My chart</a>' in home.text
        assert '<a href="/patients">' not in home.text
        mine = await patient.get("/my-chart")
        assert mine.status_code == 200
        assert "Grace Okafor" in mine.text
        assert "HbA1c &lt;b&gt;raised&lt;/b&gt;" in mine.text
        assert "•••" not in mine.text
        assert (await patient.get(other_chart)).status_code == 404
        assert (await patient.get(f"{chart_path}/records/new")).status_code == 403


async def api_token(portal: httpx.AsyncClient, app: FastAPI) -> str:
    """The access token the portal session holds (its cookie), for an API call."""
    for cookie in portal.cookies.jar:
        if cookie.name == "__Host-clinvault_access" and cookie.value:
            return cookie.value
    raise AssertionError("no access cookie")


async def test_an_unlinked_patient_account_is_told_so(app: FastAPI, container: Container) -> None:
    org = await create_org(container)
    async with browser(app, org, container, Role.PATIENT) as patient:
        page = await patient.get("/my-chart")
        assert page.status_code == 200
        assert "not linked to a patient record yet" in page.text


async def test_another_tenants_chart_is_not_found_and_ids_are_checked(
    app: FastAPI, container: Container
) -> None:
    ours, theirs = await create_org(container), await create_org(container)
    async with browser(app, theirs, container, Role.CLERK) as other_clerk:
        their_chart = await register(other_clerk)
    async with browser(app, ours, container, Role.DOCTOR) as doctor:
        assert (await doctor.get(their_chart)).status_code == 404
        assert (await doctor.get(f"{their_chart}/records/new")).status_code == 404
        assert (await doctor.get("/patients/not-a-uuid")).status_code == 404
    async with browser(app, ours, container, Role.PHARMACIST) as pharmacist:
        assert (await pharmacist.get("/patients")).status_code == 403
        assert (await pharmacist.get("/patients/new")).status_code == 403
