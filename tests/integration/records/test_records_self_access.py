"""A patient account sees its own chart (demographics, records, appointments) and nothing else."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
from tests.factories import problem
from tests.integration.records.conftest import (
    Clinic,
    add_patient,
    member,
    open_clinic,
    patient_account,
)

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role


async def _chart(client: httpx.AsyncClient, clinic: Clinic, first_name: str) -> dict[str, str]:
    patient = await add_patient(client, clinic.headers["clerk"], first_name=first_name)
    record = await client.post(
        "/api/records/",
        json={"patient_id": patient["id"], "record_type": "note", "title": "t", "content": "c"},
        headers=clinic.headers["doctor"],
    )
    starts = datetime.now(UTC) + timedelta(days=2, hours=len(first_name))
    appointment = await client.post(
        "/api/appointments/",
        json={
            "patient_id": patient["id"],
            "practitioner_id": str(clinic.users["doctor"].id),
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(minutes=20)).isoformat(),
        },
        headers=clinic.headers["clerk"],
    )
    assert appointment.status_code == 201, appointment.text
    return {
        "patient": patient["id"],
        "record": record.json()["id"],
        "appointment": appointment.json()["id"],
    }


async def test_patient_sees_only_their_own_chart(
    client: httpx.AsyncClient, container: Container, clinic: Clinic
) -> None:
    mine = await _chart(client, clinic, "Mine")
    theirs = await _chart(client, clinic, "Theirs")
    user, headers = await patient_account(client, container, clinic, mine["patient"])

    own = await client.get(f"/api/patients/{mine['patient']}", headers=headers)
    assert own.status_code == 200
    assert own.json()["user_id"] == str(user.id)
    assert [
        p["id"] for p in (await client.get("/api/patients/", headers=headers)).json()["items"]
    ] == [mine["patient"]]
    assert (await client.get(f"/api/records/{mine['record']}", headers=headers)).status_code == 200
    records = (await client.get("/api/records/", headers=headers)).json()
    assert [r["id"] for r in records["items"]] == [mine["record"]]
    by_patient = await client.get(f"/api/records/patient/{mine['patient']}", headers=headers)
    assert [r["id"] for r in by_patient.json()["items"]] == [mine["record"]]
    appointments = (await client.get("/api/appointments/", headers=headers)).json()
    assert [a["id"] for a in appointments["items"]] == [mine["appointment"]]
    assert (
        await client.get(f"/api/appointments/{mine['appointment']}", headers=headers)
    ).status_code == 200

    for url, code in (
        (f"/api/patients/{theirs['patient']}", "patient_not_found"),
        (f"/api/records/{theirs['record']}", "medical_record_not_found"),
        (f"/api/records/patient/{theirs['patient']}", "patient_not_found"),
        (f"/api/records/?patient_id={theirs['patient']}", "patient_not_found"),
        (f"/api/appointments/{theirs['appointment']}", "appointment_not_found"),
        (f"/api/appointments/?patient_id={theirs['patient']}", "patient_not_found"),
        (f"/api/patients/{uuid.uuid4()}", "patient_not_found"),
    ):
        problem(await client.get(url, headers=headers), 404, code)


async def test_patient_cannot_change_anything(
    client: httpx.AsyncClient, container: Container, clinic: Clinic
) -> None:
    mine = await _chart(client, clinic, "Mine")
    theirs = await _chart(client, clinic, "Theirs")
    _, headers = await patient_account(client, container, clinic, mine["patient"])
    problem(
        await client.put(
            f"/api/patients/{mine['patient']}", json={"allergies": "none"}, headers=headers
        ),
        403,
        "permission_denied",
    )
    problem(
        await client.put(
            f"/api/patients/{theirs['patient']}", json={"allergies": "none"}, headers=headers
        ),
        404,
        "patient_not_found",
    )
    problem(
        await client.post(
            f"/api/records/{mine['record']}/amendments", json={"title": "mine now"}, headers=headers
        ),
        403,
        "permission_denied",
    )
    problem(
        await client.post(f"/api/appointments/{mine['appointment']}/cancel", headers=headers),
        403,
        "permission_denied",
    )
    problem(
        await client.post(f"/api/appointments/{theirs['appointment']}/cancel", headers=headers),
        404,
        "appointment_not_found",
    )
    problem(await client.post("/api/patients/", json={}, headers=headers), 422, "request_invalid")
    chart = (await client.get(f"/api/patients/{mine['patient']}", headers=headers)).json()
    assert chart["allergies"] == "penicillin"


async def test_unlinked_patient_account_sees_empty_lists(
    client: httpx.AsyncClient, container: Container, clinic: Clinic
) -> None:
    chart = await _chart(client, clinic, "Someone")
    _, headers = await member(container, clinic.org, Role.PATIENT)
    for url in ("/api/patients/", "/api/records/", "/api/appointments/"):
        body = (await client.get(url, headers=headers)).json()
        assert body["items"] == [], url
        assert body["total"] == 0
    problem(
        await client.get(f"/api/patients/{chart['patient']}", headers=headers),
        404,
        "patient_not_found",
    )


async def test_linking_rules(
    client: httpx.AsyncClient, container: Container, clinic: Clinic
) -> None:
    first = await add_patient(client, clinic.headers["clerk"])
    second = await add_patient(client, clinic.headers["clerk"], first_name="Second")
    patient_user, _ = await member(container, clinic.org, Role.PATIENT)
    other = await open_clinic(client, container, roles=(Role.PATIENT,))
    clerk = clinic.headers["clerk"]

    async def link(
        patient_id: str, user_id: object, headers: dict[str, str] = clerk
    ) -> httpx.Response:
        return await client.post(
            f"/api/patients/{patient_id}/link-user",
            json={"user_id": None if user_id is None else str(user_id)},
            headers=headers,
        )

    problem(await link(first["id"], clinic.users["doctor"].id), 422, "patient_user_invalid")
    problem(await link(first["id"], other.users["patient"].id), 422, "patient_user_invalid")
    problem(await link(first["id"], uuid.uuid4()), 422, "patient_user_invalid")
    problem(
        await link(first["id"], patient_user.id, clinic.headers["nurse"]), 403, "permission_denied"
    )
    linked = await link(first["id"], patient_user.id)
    assert linked.json()["user_id"] == str(patient_user.id)
    problem(await link(second["id"], patient_user.id), 409, "patient_user_already_linked")
    via_put = await client.put(
        f"/api/patients/{second['id']}", json={"user_id": None}, headers=clerk
    )
    assert via_put.status_code == 200
    unlinked = await link(first["id"], None)
    assert unlinked.json()["user_id"] is None
    moved = await client.put(
        f"/api/patients/{second['id']}", json={"user_id": str(patient_user.id)}, headers=clerk
    )
    assert moved.json()["user_id"] == str(patient_user.id)


async def test_staff_of_another_tenant_get_404_everywhere(
    client: httpx.AsyncClient, container: Container, clinic: Clinic
) -> None:
    chart = await _chart(client, clinic, "Local")
    other = await open_clinic(client, container)
    for role, headers in other.headers.items():
        for url in (
            f"/api/patients/{chart['patient']}",
            f"/api/records/{chart['record']}",
            f"/api/appointments/{chart['appointment']}",
        ):
            response = await client.get(url, headers=headers)
            assert response.status_code == 404, (role, url, response.text)
        listing = await client.get("/api/patients/", headers=headers)
        assert listing.json()["total"] == 0
