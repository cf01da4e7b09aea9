"""Patients: registration, reading, paging, updates by role, and validation."""

from __future__ import annotations

import uuid

import httpx
import pytest
from tests.factories import problem, signed_in
from tests.integration.records.conftest import Clinic, add_patient, open_clinic, patient_body

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role


async def test_clerk_registers_and_reads_a_patient(
    client: httpx.AsyncClient, clinic: Clinic
) -> None:
    created = await add_patient(client, clinic.headers["clerk"], ssn="123-45-6789")
    assert created["first_name"] == "Ada"
    assert created["phone"] == "+442071838750"
    assert created["ssn_last4"] == "6789"
    assert "ssn" not in created
    assert len(created["mrn"]) == 8
    assert created["mrn"].isdigit()
    read = await client.get(f"/api/patients/{created['id']}", headers=clinic.headers["doctor"])
    assert read.status_code == 200
    assert read.json() == created


@pytest.mark.parametrize("role", ["org_admin", "clerk", "doctor", "nurse"])
async def test_staff_roles_register_patients(
    client: httpx.AsyncClient, clinic: Clinic, role: str
) -> None:
    created = await add_patient(client, clinic.headers[role], mrn="MRN-1")
    assert created["mrn"] == "MRN-1"


async def test_other_roles_cannot_register_or_read(
    client: httpx.AsyncClient, container: Container, clinic: Clinic
) -> None:
    _, pharmacist = await signed_in(client, container, clinic.org, roles=[Role.PHARMACIST])
    problem(
        await client.post("/api/patients/", json=patient_body(), headers=pharmacist),
        403,
        "permission_denied",
    )
    created = await add_patient(client, clinic.headers["clerk"])
    problem(
        await client.get(f"/api/patients/{created['id']}", headers=pharmacist),
        403,
        "permission_denied",
    )
    problem(await client.get("/api/patients/", headers=pharmacist), 403, "permission_denied")
    listing = await client.get("/api/patients/", headers=clinic.headers["clerk"])
    assert listing.json()["total"] == 1


async def test_mrn_is_unique_per_organization(
    client: httpx.AsyncClient, container: Container, clinic: Clinic
) -> None:
    await add_patient(client, clinic.headers["clerk"], mrn="A-100")
    problem(
        await client.post(
            "/api/patients/", json=patient_body(mrn="a-100"), headers=clinic.headers["clerk"]
        ),
        409,
        "patient_mrn_taken",
    )
    second = await add_patient(client, clinic.headers["clerk"], mrn="A-200")
    problem(
        await client.put(
            f"/api/patients/{second['id']}", json={"mrn": "A-100"}, headers=clinic.headers["clerk"]
        ),
        409,
        "patient_mrn_taken",
    )
    same = await client.put(
        f"/api/patients/{second['id']}", json={"mrn": "A-200"}, headers=clinic.headers["clerk"]
    )
    assert same.status_code == 200
    other = await open_clinic(client, container, roles=(Role.CLERK,))
    created = await add_patient(client, other.headers["clerk"], mrn="A-100")
    assert created["mrn"] == "A-100"
    listing = await client.get("/api/patients/", headers=clinic.headers["clerk"])
    assert listing.json()["total"] == 2


async def test_generated_mrns_differ(client: httpx.AsyncClient, clinic: Clinic) -> None:
    mrns = {
        (await add_patient(client, clinic.headers["clerk"], first_name=f"P{i}"))["mrn"]
        for i in range(5)
    }
    assert len(mrns) == 5


async def test_paging_and_beyond_the_end(client: httpx.AsyncClient, clinic: Clinic) -> None:
    ids = [
        (await add_patient(client, clinic.headers["clerk"], first_name=f"N{i}"))["id"]
        for i in range(5)
    ]
    first = (
        await client.get("/api/patients/?page=1&page_size=2", headers=clinic.headers["clerk"])
    ).json()
    assert first["total"] == 5
    assert first["page"] == 1
    assert first["page_size"] == 2
    assert [p["id"] for p in first["items"]] == ids[:2]
    third = (
        await client.get("/api/patients/?page=3&page_size=2", headers=clinic.headers["clerk"])
    ).json()
    assert [p["id"] for p in third["items"]] == ids[4:]
    beyond = await client.get("/api/patients/?page=50&page_size=2", headers=clinic.headers["clerk"])
    assert beyond.status_code == 200
    assert beyond.json()["items"] == []
    assert beyond.json()["total"] == 5
    for query in ("page=0", "page_size=101", "page_size=0", "page=x"):
        problem(
            await client.get(f"/api/patients/?{query}", headers=clinic.headers["clerk"]),
            422,
            "request_invalid",
        )


async def test_front_desk_updates_everything(client: httpx.AsyncClient, clinic: Clinic) -> None:
    created = await add_patient(client, clinic.headers["clerk"])
    response = await client.put(
        f"/api/patients/{created['id']}",
        json={"last_name": "King", "phone": "(555) 010-0199", "email": None, "ssn": "987654321"},
        headers=clinic.headers["clerk"],
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["last_name"] == "King"
    assert body["phone"] == "+15550100199"
    assert body["email"] is None
    assert body["ssn_last4"] == "4321"
    assert body["first_name"] == "Ada"


async def test_nurse_changes_clinical_fields_only(
    client: httpx.AsyncClient, clinic: Clinic
) -> None:
    created = await add_patient(client, clinic.headers["clerk"])
    url = f"/api/patients/{created['id']}"
    allowed = await client.put(
        url,
        json={"allergies": "latex", "blood_type": "AB-", "first_name": "Ada"},
        headers=clinic.headers["nurse"],
    )
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["allergies"] == "latex"
    body = problem(
        await client.put(
            url,
            json={"allergies": "none", "last_name": "Byron", "date_of_birth": "1990-01-01"},
            headers=clinic.headers["nurse"],
        ),
        403,
        "patient_fields_forbidden",
    )
    assert "date_of_birth" in body["detail"]
    assert "last_name" in body["detail"]
    assert {e["field"] for e in body["errors"]} == {"date_of_birth", "last_name"}
    after = (await client.get(url, headers=clinic.headers["clerk"])).json()
    assert after["allergies"] == "latex"
    assert after["last_name"] == "Lovelace"
    assert after["date_of_birth"] == "1985-12-10"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("first_name", "x" * 101),
        ("address", "x" * 501),
        ("allergies", "x" * 4001),
        ("first_name", ""),
        ("date_of_birth", "2999-01-01"),
        ("date_of_birth", "1899-12-31"),
        ("date_of_birth", "1985-02-30"),
        ("date_of_birth", "10/12/1985"),
        ("blood_type", "C+"),
        ("gender", "robot"),
        ("email", "not-an-email"),
        ("phone", "call me"),
        ("phone", "123"),
        ("ssn", "12-345-678"),
        ("mrn", "MRN 1"),
        ("mrn", "M" * 33),
        ("unknown_field", "x"),
    ],
)
async def test_invalid_fields_are_422_naming_the_field(
    client: httpx.AsyncClient, clinic: Clinic, field: str, value: str
) -> None:
    body = problem(
        await client.post(
            "/api/patients/", json=patient_body(**{field: value}), headers=clinic.headers["clerk"]
        ),
        422,
        "request_invalid",
    )
    assert any(error["field"].startswith(field) for error in body["errors"]), body
    assert (await client.get("/api/patients/", headers=clinic.headers["clerk"])).json()[
        "total"
    ] == 0


async def test_phone_numbers_that_cannot_be_normalized(
    client: httpx.AsyncClient, clinic: Clinic
) -> None:
    body = problem(
        await client.post(
            "/api/patients/", json=patient_body(phone="555 0101"), headers=clinic.headers["clerk"]
        ),
        422,
        "request_invalid",
    )
    assert body["errors"][0]["field"] == "phone"
    assert (await client.get("/api/patients/", headers=clinic.headers["clerk"])).json()[
        "total"
    ] == 0


async def test_required_fields_cannot_be_cleared(client: httpx.AsyncClient, clinic: Clinic) -> None:
    created = await add_patient(client, clinic.headers["clerk"])
    problem(
        await client.put(
            f"/api/patients/{created['id']}",
            json={"first_name": None},
            headers=clinic.headers["clerk"],
        ),
        422,
        "request_invalid",
    )


async def test_metacharacters_are_stored_and_returned_verbatim(
    client: httpx.AsyncClient, clinic: Clinic
) -> None:
    nasty = 'Robert\'); DROP TABLE patients;-- <script>alert(1)</script> & "quotes"'
    created = await add_patient(
        client,
        clinic.headers["clerk"],
        last_name=nasty[:100],
        address=nasty,
        allergies=nasty,
        emergency_contact=nasty,
    )
    read = (
        await client.get(f"/api/patients/{created['id']}", headers=clinic.headers["clerk"])
    ).json()
    assert read["last_name"] == nasty[:100]
    assert read["address"] == read["allergies"] == read["emergency_contact"] == nasty


async def test_unknown_malformed_and_foreign_ids(
    client: httpx.AsyncClient, container: Container, clinic: Clinic
) -> None:
    other = await open_clinic(client, container, roles=(Role.CLERK,))
    foreign = await add_patient(client, other.headers["clerk"])
    headers = clinic.headers["clerk"]
    for patient_id in (str(uuid.uuid4()), foreign["id"]):
        problem(
            await client.get(f"/api/patients/{patient_id}", headers=headers),
            404,
            "patient_not_found",
        )
        problem(
            await client.put(
                f"/api/patients/{patient_id}", json={"allergies": "x"}, headers=headers
            ),
            404,
            "patient_not_found",
        )
    problem(await client.get("/api/patients/not-a-uuid", headers=headers), 422, "request_invalid")
    problem(await client.get("/api/patients/", headers={}), 401, "authentication_required")
    untouched = (
        await client.get(f"/api/patients/{foreign['id']}", headers=other.headers["clerk"])
    ).json()
    assert untouched["allergies"] == "penicillin"
