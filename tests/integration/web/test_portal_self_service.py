"""Patient self-service in the portal: names, requests, cancellations, downloads, access report.

A patient acts on their own chart only: another patient's appointment is 404,
the online cancellation has a 24-hour cut-off, the downloads hold only their
own data and the access report lists staff who opened their chart and nothing
about anyone else's.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from portal_helpers import form_token, sign_in
from sqlalchemy import select
from tests.factories import create_user, mail_text, mails_to
from tests.integration.records.conftest import Clinic, add_patient, add_record, open_clinic

from clinvault.bootstrap import Container
from clinvault.errors import PatientNotFound
from clinvault.identity.principal import Principal, Role
from clinvault.models.audit import AuditEvent
from clinvault.models.notifications import Notification
from clinvault.records.appointments.requests import AppointmentSelfService
from clinvault.records.appointments.schemas import AppointmentRequestCreate


@asynccontextmanager
async def _portal(app: FastAPI, email: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("198.51.100.9", 4444))
    async with httpx.AsyncClient(
        transport=transport, base_url="https://testserver", follow_redirects=False
    ) as http:
        signed = await sign_in(http, email)
        assert signed.status_code == 303, signed.text
        yield http


async def _book(
    client: httpx.AsyncClient, clinic: Clinic, patient_id: str, starts: datetime, reason: str
) -> str:
    booked = await client.post(
        "/api/appointments/",
        json={
            "patient_id": patient_id,
            "practitioner_id": str(clinic.users["doctor"].id),
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(minutes=30)).isoformat(),
            "reason": reason,
        },
        headers=clinic.headers["clerk"],
    )
    assert booked.status_code == 201, booked.text
    appointment_id: str = booked.json()["id"]
    return appointment_id


async def _appointment(client: httpx.AsyncClient, clinic: Clinic, appointment_id: str) -> Any:
    read = await client.get(f"/api/appointments/{appointment_id}", headers=clinic.headers["clerk"])
    assert read.status_code == 200, read.text
    return read.json()


async def _patient_with_account(
    client: httpx.AsyncClient, container: Container, clinic: Clinic, first_name: str
) -> tuple[dict[str, Any], Any]:
    patient = await add_patient(client, clinic.headers["clerk"], first_name=first_name)
    user = await create_user(container, clinic.org, roles=[Role.PATIENT])
    linked = await client.post(
        f"/api/patients/{patient['id']}/link-user",
        json={"user_id": str(user.id)},
        headers=clinic.headers["clerk"],
    )
    assert linked.status_code == 200, linked.text
    return patient, user


@pytest.fixture
async def clinic(client: httpx.AsyncClient, container: Container) -> Clinic:
    return await open_clinic(client, container)


async def test_a_patient_requests_and_cancels_their_own_appointments_only(
    app: FastAPI, client: httpx.AsyncClient, container: Container, clinic: Clinic
) -> None:
    mine, me = await _patient_with_account(client, container, clinic, "Mina")
    theirs, _ = await _patient_with_account(client, container, clinic, "Theo")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    later = await _book(client, clinic, mine["id"], now + timedelta(days=3), "Knee pain")
    soon = await _book(client, clinic, mine["id"], now + timedelta(hours=2), "Follow-up")
    other = await _book(client, clinic, theirs["id"], now + timedelta(days=4), "Theirs")
    doctor = clinic.users["doctor"]

    async with _portal(app, me.email) as patient:
        chart = await patient.get("/my-chart")
        assert chart.status_code == 200
        assert doctor.display_name in chart.text
        assert "Practitioner " not in chart.text
        assert "Upcoming appointments" in chart.text

        # Another patient's appointment does not exist for this patient.
        assert (await patient.get(f"/my-chart/appointments/{other}/cancel")).status_code == 404
        form = await patient.get(f"/my-chart/appointments/{later}/cancel")
        assert form.status_code == 200
        assert "Cancel this appointment?" in form.text
        action = f"/my-chart/appointments/{later}/cancel"
        token = form_token(form.text, action)
        refused = await patient.post(
            f"/my-chart/appointments/{other}/cancel", data={"csrf_token": token}
        )
        assert refused.status_code == 404
        assert (await _appointment(client, clinic, other))["status"] == "scheduled"

        # Within the 24-hour cut-off: refused, and the appointment stays.
        soon_form = await patient.get(f"/my-chart/appointments/{soon}/cancel")
        too_late = await patient.post(
            f"/my-chart/appointments/{soon}/cancel",
            data={
                "csrf_token": form_token(soon_form.text, f"/my-chart/appointments/{soon}/cancel")
            },
        )
        assert too_late.status_code == 409
        assert "call the clinic" in too_late.text
        assert (await _appointment(client, clinic, soon))["status"] == "scheduled"

        cancelled = await patient.post(action, data={"csrf_token": token})
        assert cancelled.status_code == 303
        assert cancelled.headers["location"] == "/my-chart?notice=cancelled"
        read = await _appointment(client, clinic, later)
        assert read["status"] == "cancelled"
        assert read["cancelled_by"] == str(me.id)
        chart = await patient.get("/my-chart?notice=cancelled")
        assert "Cancelled by you" in chart.text

        # A request in a preferred window, refused first for a day in the past.
        request_page = await patient.get("/my-chart/appointments/request")
        assert request_page.status_code == 200
        assert doctor.display_name in request_page.text
        request_token = form_token(request_page.text, "/my-chart/appointments/request")
        fields = {
            "practitioner_id": str(doctor.id),
            "day": (now - timedelta(days=2)).date().isoformat(),
            "earliest": "09:00",
            "latest": "11:00",
            "timezone": "UTC",
            "reason": "Rash on the left arm",
            "csrf_token": request_token,
        }
        past = await patient.post("/my-chart/appointments/request", data=fields)
        assert past.status_code == 422
        assert 'id="earliest-error"' in past.text
        assert 'value="Rash on the left arm"' in past.text
        fields["day"] = (now + timedelta(days=6)).date().isoformat()
        sent = await patient.post("/my-chart/appointments/request", data=fields)
        assert sent.status_code == 303, sent.text
        chart = await patient.get("/my-chart")
        assert "Waiting for the clinic to confirm" in chart.text
        assert (await patient.get("/appointments/requests")).status_code == 403

    listed = await client.get(
        "/api/appointments/",
        params={"status": "requested", "patient_id": mine["id"]},
        headers=clinic.headers["clerk"],
    )
    requested = listed.json()["items"]
    assert len(requested) == 1
    assert requested[0]["requested_until"] is not None

    # The practitioner is told, in the portal and by email, without the reason.
    async with container.db.sessions() as session:
        kinds = (
            await session.scalars(
                select(Notification.kind).where(Notification.user_id == doctor.id)
            )
        ).all()
    assert {"appointment.requested", "appointment.patient_cancelled"} <= set(kinds)
    mails = mails_to(container, doctor.email)
    assert mails
    assert all("Rash" not in mail_text(m) and "Knee" not in mail_text(m) for m in mails)

    # The service refuses a request for another patient's chart (404).
    me_principal = Principal(
        user_id=me.id, organization_id=clinic.org.id, roles=frozenset({Role.PATIENT})
    )
    async with container.db.unit_of_work() as session:
        with pytest.raises(PatientNotFound):
            await AppointmentSelfService(session, container).request(
                me_principal,
                AppointmentRequestCreate(
                    patient_id=uuid.UUID(theirs["id"]),
                    practitioner_id=doctor.id,
                    window_start=now + timedelta(days=5),
                    window_end=now + timedelta(days=5, hours=2),
                ),
            )

    # The front desk confirms the request at a start inside the window.
    clerk_user = await create_user(container, clinic.org, roles=[Role.CLERK])
    async with _portal(app, clerk_user.email) as clerk:
        page = await clerk.get("/appointments/requests")
        assert page.status_code == 200
        assert "Mina" in page.text
        confirm = f"/appointments/requests/{requested[0]['id']}/confirm"
        starts_at = datetime.fromisoformat(requested[0]["starts_at"]) + timedelta(minutes=30)
        done = await clerk.post(
            confirm,
            data={
                "starts_at": starts_at.isoformat(),
                "minutes": "30",
                "csrf_token": form_token(page.text, confirm),
            },
        )
        assert done.status_code == 303, done.text
    confirmed = await _appointment(client, clinic, requested[0]["id"])
    assert confirmed["status"] == "scheduled"
    assert datetime.fromisoformat(confirmed["starts_at"]) == starts_at


async def test_downloads_hold_only_the_patients_own_data_and_are_audited(
    app: FastAPI, client: httpx.AsyncClient, container: Container, clinic: Clinic
) -> None:
    mine, me = await _patient_with_account(client, container, clinic, "Mina")
    theirs, _ = await _patient_with_account(client, container, clinic, "Theo")
    doctor_headers = clinic.headers["doctor"]
    await add_record(client, doctor_headers, mine["id"], content="Mina's blood pressure 118/76.")
    await add_record(client, doctor_headers, theirs["id"], content="Theo's secret diagnosis.")
    now = datetime.now(UTC)
    await _book(client, clinic, mine["id"], now + timedelta(days=2), "Mina check")
    await _book(client, clinic, theirs["id"], now + timedelta(days=2, hours=2), "Theo check")

    async with _portal(app, me.email) as patient:
        exported = await patient.get("/my-chart/export.json")
        assert exported.status_code == 200
        assert "attachment" in exported.headers["content-disposition"]
        bundle = exported.json()
        pdf = await patient.get("/my-chart/export.pdf")
        assert pdf.status_code == 200
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF")

    text = json.dumps(bundle)
    assert bundle["resourceType"] == "Bundle"
    assert bundle["type"] == "collection"
    assert theirs["id"] not in text
    assert "Theo" not in text
    resources = [entry["resource"] for entry in bundle["entry"]]
    patients = [r for r in resources if r["resourceType"] == "Patient"]
    assert [p["id"] for p in patients] == [mine["id"]]
    assert patients[0]["name"][0]["given"] == ["Mina"]
    documents = [r for r in resources if r["resourceType"] == "DocumentReference"]
    contents = [base64.b64decode(d["content"][0]["attachment"]["data"]).decode() for d in documents]
    assert contents == ["Mina's blood pressure 118/76."]
    appointments = [r for r in resources if r["resourceType"] == "Appointment"]
    assert [a["description"] for a in appointments] == ["Mina check"]
    practitioners = [r for r in resources if r["resourceType"] == "Practitioner"]
    assert clinic.users["doctor"].display_name in json.dumps(practitioners)

    async with container.db.sessions() as session:
        events = (
            await session.scalars(
                select(AuditEvent).where(AuditEvent.action.like("portal.my_chart.export%"))
            )
        ).all()
    assert {(e.action, e.actor_id, e.resource_id, e.outcome) for e in events} == {
        ("portal.my_chart.export_json", me.id, mine["id"], "success"),
        ("portal.my_chart.export_pdf", me.id, mine["id"], "success"),
    }

    # Staff have no chart of their own to download.
    doctor_user = await create_user(container, clinic.org, roles=[Role.DOCTOR])
    async with _portal(app, doctor_user.email) as staff:
        assert (await staff.get("/my-chart/export.json")).status_code == 404


async def test_the_access_report_lists_staff_who_opened_the_chart_and_nothing_else(
    app: FastAPI, client: httpx.AsyncClient, container: Container, clinic: Clinic
) -> None:
    mine, me = await _patient_with_account(client, container, clinic, "Mina")
    theirs, _ = await _patient_with_account(client, container, clinic, "Theo")
    record = await add_record(client, clinic.headers["doctor"], mine["id"])
    opened = await client.get(f"/api/patients/{mine['id']}", headers=clinic.headers["doctor"])
    assert opened.status_code == 200
    read = await client.get(f"/api/records/{record['id']}", headers=clinic.headers["doctor"])
    assert read.status_code == 200
    # The nurse opens only the other patient's chart.
    other = await client.get(f"/api/patients/{theirs['id']}", headers=clinic.headers["nurse"])
    assert other.status_code == 200

    async with _portal(app, me.email) as patient:
        await patient.get("/my-chart")
        report = await patient.get("/my-chart/access")
    assert report.status_code == 200
    page = report.text
    doctor = clinic.users["doctor"]
    assert doctor.display_name in page
    assert "Doctor" in page
    assert clinic.org.name in page
    assert "Read your details" in page
    assert "Read a medical record" in page
    assert "Added a medical record" in page
    assert clinic.users["nurse"].display_name not in page
    assert me.display_name not in page  # the patient's own visits are not listed

    async with container.db.sessions() as session:
        event = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "portal.my_chart.access_report")
        )
    assert event is not None
    assert event.actor_id == me.id
    assert event.resource_id == mine["id"]
