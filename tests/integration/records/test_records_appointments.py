"""Appointments: booking, clashes (also concurrent), rescheduling, cancelling, schedules."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from tests.factories import problem
from tests.integration.records.conftest import Clinic, add_patient, member, open_clinic

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role

TOMORROW = (datetime.now(UTC) + timedelta(days=1)).replace(
    hour=9, minute=0, second=0, microsecond=0
)


def slot(start_minutes: int, length: int = 30) -> dict[str, str]:
    starts = TOMORROW + timedelta(minutes=start_minutes)
    return {
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(minutes=length)).isoformat(),
    }


async def book(
    client: httpx.AsyncClient, clinic: Clinic, for_patient: str, **fields: Any
) -> httpx.Response:
    body = {
        "patient_id": for_patient,
        "practitioner_id": str(clinic.users["doctor"].id),
        "reason": "Follow-up",
        **slot(0),
        **fields,
    }
    return await client.post("/api/appointments/", json=body, headers=clinic.headers["clerk"])


async def test_book_read_and_clash(client: httpx.AsyncClient, clinic: Clinic) -> None:
    patient = await add_patient(client, clinic.headers["clerk"])
    first = await book(client, clinic, patient["id"])
    assert first.status_code == 201, first.text
    booked = first.json()
    assert booked["status"] == "scheduled"
    assert booked["reason"] == "Follow-up"
    clash = problem(await book(client, clinic, patient["id"], **slot(15)), 409, "appointment_clash")
    assert clash["clash"]["id"] == booked["id"]
    assert booked["id"] not in clash["detail"]
    assert clash["detail"].startswith(
        f"{clinic.users['doctor'].display_name} already has an appointment at "
        f"{TOMORROW:%H:%M} UTC on {TOMORROW.day} {TOMORROW:%B %Y} (until "
    )
    assert datetime.fromisoformat(clash["clash"]["starts_at"]) == TOMORROW
    assert datetime.fromisoformat(clash["clash"]["ends_at"]) == TOMORROW + timedelta(minutes=30)
    adjacent = await book(client, clinic, patient["id"], **slot(30))
    assert adjacent.status_code == 201
    nurse = await book(
        client, clinic, patient["id"], practitioner_id=str(clinic.users["nurse"].id), **slot(10)
    )
    assert nurse.status_code == 201
    listing = await client.get("/api/appointments/", headers=clinic.headers["doctor"])
    assert listing.json()["total"] == 3


async def test_concurrent_bookings_of_one_slot_admit_one(
    client: httpx.AsyncClient, clinic: Clinic
) -> None:
    patients = [
        (await add_patient(client, clinic.headers["clerk"], first_name=f"C{i}"))["id"]
        for i in range(4)
    ]
    answers = await asyncio.gather(
        *(book(client, clinic, patient_id, **slot(5 * i)) for i, patient_id in enumerate(patients))
    )
    assert sorted(answer.status_code for answer in answers) == [201, 409, 409, 409]
    listing = await client.get(
        "/api/appointments/", params={"status": "scheduled"}, headers=clinic.headers["clerk"]
    )
    assert listing.json()["total"] == 1


async def test_cancel_keeps_the_appointment_and_frees_the_slot(
    client: httpx.AsyncClient, clinic: Clinic
) -> None:
    patient = await add_patient(client, clinic.headers["clerk"])
    booked = (await book(client, clinic, patient["id"])).json()
    url = f"/api/appointments/{booked['id']}/cancel"
    problem(await client.post(url, headers=clinic.headers["doctor"]), 403, "permission_denied")
    cancelled = await client.post(url, headers=clinic.headers["clerk"])
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancelled_at"] is not None
    again = await client.post(url, headers=clinic.headers["org_admin"])
    assert again.json()["cancelled_at"] == cancelled.json()["cancelled_at"]
    assert (await book(client, clinic, patient["id"])).status_code == 201
    every = await client.get("/api/appointments/", headers=clinic.headers["clerk"])
    assert [item["status"] for item in every.json()["items"]] == ["cancelled", "scheduled"]
    problem(
        await client.put(
            f"/api/appointments/{booked['id']}", json=slot(120), headers=clinic.headers["clerk"]
        ),
        409,
        "appointment_cancelled",
    )


async def test_reschedule(client: httpx.AsyncClient, clinic: Clinic) -> None:
    patient = await add_patient(client, clinic.headers["clerk"])
    first = (await book(client, clinic, patient["id"])).json()
    second = (await book(client, clinic, patient["id"], **slot(60))).json()
    url = f"/api/appointments/{second['id']}"
    clash = problem(
        await client.put(url, json=slot(20), headers=clinic.headers["clerk"]),
        409,
        "appointment_clash",
    )
    assert clash["clash"]["id"] == first["id"]
    unchanged = (await client.get(url, headers=clinic.headers["clerk"])).json()
    assert unchanged["starts_at"] == second["starts_at"]
    moved = await client.put(
        url, json={**slot(90, 45), "reason": "Moved"}, headers=clinic.headers["clerk"]
    )
    assert moved.status_code == 200, moved.text
    assert datetime.fromisoformat(moved.json()["starts_at"]) == TOMORROW + timedelta(minutes=90)
    assert moved.json()["reason"] == "Moved"
    other = await client.put(
        url,
        json={"practitioner_id": str(clinic.users["nurse"].id)},
        headers=clinic.headers["org_admin"],
    )
    assert other.json()["practitioner_id"] == str(clinic.users["nurse"].id)
    problem(
        await client.put(url, json=slot(0), headers=clinic.headers["nurse"]),
        403,
        "permission_denied",
    )


async def test_schedules_filter_by_practitioner_and_window(
    client: httpx.AsyncClient, clinic: Clinic
) -> None:
    patient = await add_patient(client, clinic.headers["clerk"])
    doctor_slot = (await book(client, clinic, patient["id"], **slot(0))).json()
    late = (await book(client, clinic, patient["id"], **slot(24 * 60))).json()
    nurse_slot = (
        await book(client, clinic, patient["id"], practitioner_id=str(clinic.users["nurse"].id))
    ).json()

    async def ids(**params: Any) -> list[str]:
        response = await client.get(
            "/api/appointments/", params=params, headers=clinic.headers["nurse"]
        )
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    doctor_id = str(clinic.users["doctor"].id)
    assert await ids(practitioner_id=doctor_id) == [doctor_slot["id"], late["id"]]
    assert await ids(practitioner_id=str(clinic.users["nurse"].id)) == [nurse_slot["id"]]
    day = TOMORROW.date().isoformat()
    assert set(await ids(**{"from": day, "to": day})) == {doctor_slot["id"], nurse_slot["id"]}
    assert await ids(page=5) == []


async def test_bad_bookings_are_4xx_and_store_nothing(
    client: httpx.AsyncClient, container: Container, clinic: Clinic
) -> None:
    patient = await add_patient(client, clinic.headers["clerk"])
    other = await open_clinic(client, container, roles=(Role.CLERK, Role.DOCTOR))
    foreign_patient = await add_patient(client, other.headers["clerk"])
    inactive, _ = await member(container, clinic.org, Role.DOCTOR)
    naive = TOMORROW.replace(tzinfo=None)
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"starts_at": naive.isoformat()}, 422, "request_invalid"),
        ({**slot(0), "ends_at": slot(-30)["starts_at"]}, 422, "appointment_times_invalid"),
        (slot(0, 9 * 60), 422, "appointment_times_invalid"),
        (
            {"starts_at": "2020-01-01T09:00:00Z", "ends_at": "2020-01-01T09:30:00Z"},
            422,
            "appointment_times_invalid",
        ),
        ({"starts_at": "tomorrow"}, 422, "request_invalid"),
        ({"practitioner_id": str(clinic.users["clerk"].id)}, 422, "practitioner_invalid"),
        ({"practitioner_id": str(other.users["doctor"].id)}, 422, "practitioner_invalid"),
        ({"practitioner_id": str(uuid.uuid4())}, 422, "practitioner_invalid"),
        ({"patient_id": foreign_patient["id"]}, 404, "patient_not_found"),
        ({"patient_id": str(uuid.uuid4())}, 404, "patient_not_found"),
        ({"patient_id": "x"}, 422, "request_invalid"),
        ({"reason": "x" * 501}, 422, "request_invalid"),
        ({"status": "cancelled"}, 422, "request_invalid"),
    ]
    for fields, status, code in cases:
        problem(await book(client, clinic, patient["id"], **fields), status, code)
    async with container.db.unit_of_work() as session:
        from clinvault.models.identity import User

        user = await session.get(User, inactive.id)
        assert user is not None
        user.is_active = False
    problem(
        await book(client, clinic, patient["id"], practitioner_id=str(inactive.id)),
        422,
        "practitioner_invalid",
    )
    listing = await client.get("/api/appointments/", headers=clinic.headers["clerk"])
    assert listing.json()["total"] == 0
    for role in ("doctor", "nurse"):
        body = {
            "patient_id": patient["id"],
            "practitioner_id": str(clinic.users["doctor"].id),
            **slot(0),
        }
        problem(
            await client.post("/api/appointments/", json=body, headers=clinic.headers[role]),
            403,
            "permission_denied",
        )


@pytest.mark.parametrize("method", ["get", "put", "cancel"])
async def test_unknown_and_foreign_appointments_are_404(
    client: httpx.AsyncClient, container: Container, clinic: Clinic, method: str
) -> None:
    other = await open_clinic(client, container, roles=(Role.CLERK, Role.DOCTOR))
    foreign_patient = await add_patient(client, other.headers["clerk"])
    foreign = (await book(client, other, foreign_patient["id"])).json()
    for appointment_id in (foreign["id"], str(uuid.uuid4())):
        url = f"/api/appointments/{appointment_id}"
        if method == "get":
            response = await client.get(url, headers=clinic.headers["clerk"])
        elif method == "put":
            response = await client.put(url, json=slot(300), headers=clinic.headers["clerk"])
        else:
            response = await client.post(f"{url}/cancel", headers=clinic.headers["clerk"])
        problem(response, 404, "appointment_not_found")
    theirs = (
        await client.get(f"/api/appointments/{foreign['id']}", headers=other.headers["clerk"])
    ).json()
    assert theirs["status"] == "scheduled"
    assert theirs["starts_at"] == foreign["starts_at"]
