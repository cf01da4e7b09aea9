"""Records-platform design clients: gender in any case, real phone numbers, the records path."""

from __future__ import annotations

import httpx
from tests.factories import problem
from tests.integration.records.conftest import Clinic, add_patient, add_record, patient_body


async def test_gender_in_any_case_is_stored_lower_case(
    client: httpx.AsyncClient, clinic: Clinic
) -> None:
    created = await add_patient(client, clinic.headers["clerk"], gender="Male")
    assert created["gender"] == "male"
    changed = await client.put(
        f"/api/patients/{created['id']}", json={"gender": "FEMALE"}, headers=clinic.headers["clerk"]
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["gender"] == "female"
    wrong = await client.post(
        "/api/patients/", json=patient_body(gender="Robot"), headers=clinic.headers["clerk"]
    )
    assert problem(wrong, 422, "request_invalid")["errors"][0]["field"] == "gender"


async def test_a_phone_too_short_to_be_real_is_refused(
    client: httpx.AsyncClient, clinic: Clinic
) -> None:
    response = await client.post(
        "/api/patients/", json=patient_body(phone="+1-555-1234"), headers=clinic.headers["clerk"]
    )
    body = problem(response, 422, "request_invalid")
    assert "phone" in str(body["errors"])


async def test_patient_records_path_matches_the_records_one(
    client: httpx.AsyncClient, clinic: Clinic
) -> None:
    patient = await add_patient(client, clinic.headers["clerk"])
    other = await add_patient(client, clinic.headers["clerk"], first_name="Other")
    record = await add_record(client, clinic.headers["doctor"], patient["id"])
    await add_record(client, clinic.headers["doctor"], other["id"])
    design = await client.get(
        f"/api/patients/{patient['id']}/records",
        params={"per_page": 5},
        headers=clinic.headers["doctor"],
    )
    assert design.status_code == 200, design.text
    ours = await client.get(
        f"/api/records/patient/{patient['id']}", headers=clinic.headers["doctor"]
    )
    assert [item["id"] for item in design.json()["items"]] == [record["id"]]
    assert design.json()["items"] == ours.json()["items"]
    assert design.json()["page_size"] == 5
    clerk = await client.get(
        f"/api/patients/{patient['id']}/records", headers=clinic.headers["clerk"]
    )
    assert clerk.status_code == 403
