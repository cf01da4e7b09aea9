"""The self-service API: a patient acts on their own chart only, with the 24-hour cut-off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from tests.factories import problem
from tests.integration.records.conftest import Clinic, add_patient, add_record, patient_account

from clinvault.bootstrap import Container


async def _book(
    client: httpx.AsyncClient, clinic: Clinic, patient_id: str, starts: datetime
) -> str:
    booked = await client.post(
        "/api/appointments/",
        json={
            "patient_id": patient_id,
            "practitioner_id": str(clinic.users["doctor"].id),
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(minutes=20)).isoformat(),
        },
        headers=clinic.headers["clerk"],
    )
    assert booked.status_code == 201, booked.text
    return str(booked.json()["id"])


async def test_a_patient_requests_and_cancels_only_for_their_own_chart(
    client: httpx.AsyncClient, container: Container, clinic: Clinic
) -> None:
    mine = await add_patient(client, clinic.headers["clerk"], first_name="Mina")
    theirs = await add_patient(client, clinic.headers["clerk"], first_name="Theo")
    me, headers = await patient_account(client, container, clinic, mine["id"])
    now = datetime.now(UTC)
    window = {
        "practitioner_id": str(clinic.users["nurse"].id),
        "window_start": (now + timedelta(days=4)).isoformat(),
        "window_end": (now + timedelta(days=4, hours=3)).isoformat(),
        "reason": "Dressing change",
    }

    problem(
        await client.post(
            "/api/appointments/requests",
            json={**window, "patient_id": theirs["id"]},
            headers=headers,
        ),
        404,
        "patient_not_found",
    )
    problem(
        await client.post(
            "/api/appointments/requests", json=window, headers=clinic.headers["clerk"]
        ),
        403,
        "permission_denied",
    )
    late = {**window, "window_end": (now + timedelta(days=4, hours=13)).isoformat()}
    problem(
        await client.post("/api/appointments/requests", json=late, headers=headers),
        422,
        "appointment_times_invalid",
    )
    created = await client.post("/api/appointments/requests", json=window, headers=headers)
    assert created.status_code == 201, created.text
    request = created.json()
    assert request["status"] == "requested"
    assert request["patient_id"] == mine["id"]

    # A request holds no slot: the front desk can still book the nurse then.
    starts = datetime.fromisoformat(request["starts_at"])
    booked = await client.post(
        "/api/appointments/",
        json={
            "patient_id": theirs["id"],
            "practitioner_id": str(clinic.users["nurse"].id),
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(minutes=30)).isoformat(),
        },
        headers=clinic.headers["clerk"],
    )
    assert booked.status_code == 201, booked.text
    # ...so confirming the request at that time clashes, and later does not.
    url = f"/api/appointments/{request['id']}"
    problem(
        await client.post(f"{url}/confirm", json={}, headers=clinic.headers["clerk"]),
        409,
        "appointment_clash",
    )
    later = (starts + timedelta(hours=1)).isoformat()
    confirmed = await client.post(
        f"{url}/confirm", json={"starts_at": later, "minutes": 30}, headers=clinic.headers["clerk"]
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "scheduled"
    problem(
        await client.post(f"{url}/decline", headers=clinic.headers["clerk"]),
        409,
        "appointment_not_requested",
    )

    second = await client.post("/api/appointments/requests", json=window, headers=headers)
    declined = await client.post(
        f"/api/appointments/{second.json()['id']}/decline", headers=clinic.headers["clerk"]
    )
    assert declined.status_code == 200, declined.text
    assert declined.json()["status"] == "declined"
    notices = await client.get("/api/notifications", headers=headers)
    assert notices.status_code == 200, notices.text
    titles = {item["title"] for item in notices.json()["items"]}
    assert {
        "Your appointment request was confirmed",
        "Your appointment request could not be booked",
    } <= titles

    other = await _book(client, clinic, theirs["id"], now + timedelta(days=5))
    soon = await _book(client, clinic, mine["id"], now + timedelta(hours=23))
    problem(
        await client.post(f"/api/appointments/{other}/patient-cancel", headers=headers),
        404,
        "appointment_not_found",
    )
    problem(
        await client.post(f"/api/appointments/{soon}/patient-cancel", headers=headers),
        409,
        "appointment_cancel_too_late",
    )
    cancelled = await client.post(f"{url}/patient-cancel", headers=headers)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancelled_by"] == str(me.id)
    still = await client.get(f"/api/appointments/{other}", headers=clinic.headers["clerk"])
    assert still.json()["status"] == "scheduled"


async def test_the_export_and_access_report_are_the_patients_own(
    client: httpx.AsyncClient, container: Container, clinic: Clinic
) -> None:
    mine = await add_patient(client, clinic.headers["clerk"], first_name="Mina")
    theirs = await add_patient(client, clinic.headers["clerk"], first_name="Theo")
    _, headers = await patient_account(client, container, clinic, mine["id"])
    await add_record(client, clinic.headers["doctor"], theirs["id"], content="Theo only.")
    assert (
        await client.get(f"/api/patients/{theirs['id']}", headers=clinic.headers["nurse"])
    ).status_code == 200
    assert (
        await client.get(f"/api/patients/{mine['id']}", headers=clinic.headers["doctor"])
    ).status_code == 200

    problem(
        await client.get(f"/api/patients/{theirs['id']}/export", headers=headers),
        404,
        "patient_not_found",
    )
    problem(
        await client.get(f"/api/patients/{mine['id']}/export", headers=clinic.headers["doctor"]),
        403,
        "permission_denied",
    )
    exported = await client.get(f"/api/patients/{mine['id']}/export", headers=headers)
    assert exported.status_code == 200
    assert exported.headers["content-type"] == "application/fhir+json"
    assert "Theo" not in exported.text

    report = await client.get(f"/api/patients/{mine['id']}/access-report", headers=headers)
    assert report.status_code == 200, report.text
    rows = report.json()["items"]
    actors = {row["actor_id"] for row in rows}
    assert str(clinic.users["doctor"].id) in actors
    assert str(clinic.users["nurse"].id) not in actors
    doctor_rows = [row for row in rows if row["actor_id"] == str(clinic.users["doctor"].id)]
    assert {row["what"] for row in doctor_rows} >= {"Read your details"}
    assert all(row["roles"] == "Doctor" for row in doctor_rows)
