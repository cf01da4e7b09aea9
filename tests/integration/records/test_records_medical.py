"""Medical records: who writes and reads them, chronology, filters and amendments."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from tests.factories import problem
from tests.integration.records.conftest import Clinic, add_patient, add_record, open_clinic

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role

NOW = datetime.now(UTC).replace(microsecond=0)


def _at(days_ago: int) -> str:
    return (NOW - timedelta(days=days_ago)).isoformat()


@pytest.mark.parametrize("role", ["org_admin", "doctor", "nurse"])
async def test_clinical_roles_write_records(
    client: httpx.AsyncClient, clinic: Clinic, role: str
) -> None:
    patient = await add_patient(client, clinic.headers["clerk"])
    record = await add_record(client, clinic.headers[role], patient["id"], recorded_at=_at(1))
    assert record["author_id"] == str(clinic.users[role].id)
    assert record["version"] == 1
    assert record["superseded_by"] is None
    read = await client.get(f"/api/records/{record['id']}", headers=clinic.headers["doctor"])
    assert read.json() == record


async def test_clerks_neither_write_nor_read_records(
    client: httpx.AsyncClient, clinic: Clinic
) -> None:
    patient = await add_patient(client, clinic.headers["clerk"])
    record = await add_record(client, clinic.headers["doctor"], patient["id"])
    clerk = clinic.headers["clerk"]
    body = {"patient_id": patient["id"], "record_type": "note", "title": "t", "content": "c"}
    problem(await client.post("/api/records/", json=body, headers=clerk), 403, "permission_denied")
    problem(
        await client.get(f"/api/records/{record['id']}", headers=clerk), 403, "permission_denied"
    )
    problem(await client.get("/api/records/", headers=clerk), 403, "permission_denied")
    problem(
        await client.get(f"/api/records/patient/{patient['id']}", headers=clerk),
        403,
        "permission_denied",
    )
    problem(
        await client.post(
            f"/api/records/{record['id']}/amendments", json={"title": "x"}, headers=clerk
        ),
        403,
        "permission_denied",
    )
    listing = await client.get("/api/records/", headers=clinic.headers["doctor"])
    assert listing.json()["total"] == 1


async def test_lists_are_chronological_and_filtered(
    client: httpx.AsyncClient, clinic: Clinic
) -> None:
    doctor = clinic.headers["doctor"]
    first = await add_patient(client, clinic.headers["clerk"])
    second = await add_patient(client, clinic.headers["clerk"], first_name="Grace")
    late = await add_record(client, doctor, first["id"], recorded_at=_at(1))
    early = await add_record(
        client, doctor, first["id"], recorded_at=_at(30), record_type="lab_result"
    )
    middle = await add_record(client, doctor, second["id"], recorded_at=_at(10))

    async def ids(url: str, **params: Any) -> list[str]:
        response = await client.get(url, params=params, headers=doctor)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert await ids("/api/records/") == [early["id"], middle["id"], late["id"]]
    assert await ids("/api/records/", patient_id=first["id"]) == [early["id"], late["id"]]
    assert await ids(f"/api/records/patient/{first['id']}") == [early["id"], late["id"]]
    assert await ids("/api/records/", type="lab_result") == [early["id"]]
    since = (NOW - timedelta(days=15)).date().isoformat()
    assert await ids("/api/records/", **{"from": since}) == [middle["id"], late["id"]]
    assert await ids("/api/records/", to=_at(5)) == [early["id"], middle["id"]]
    assert await ids("/api/records/", page=2, page_size=2) == [late["id"]]
    assert await ids("/api/records/", page=9, page_size=2) == []


async def test_amendments_keep_every_version(client: httpx.AsyncClient, clinic: Clinic) -> None:
    patient = await add_patient(client, clinic.headers["clerk"])
    original = await add_record(client, clinic.headers["doctor"], patient["id"], recorded_at=_at(2))
    response = await client.post(
        f"/api/records/{original['id']}/amendments",
        json={"content": "Blood pressure 135/85 (corrected).", "priority": "high"},
        headers=clinic.headers["nurse"],
    )
    assert response.status_code == 201, response.text
    amended = response.json()
    assert amended["version"] == 2
    assert amended["supersedes"] == original["id"]
    assert amended["title"] == original["title"]
    assert amended["content"] == "Blood pressure 135/85 (corrected)."
    assert amended["priority"] == "high"
    assert amended["recorded_at"] == original["recorded_at"]
    assert amended["author_id"] == str(clinic.users["nurse"].id)

    old = (
        await client.get(f"/api/records/{original['id']}", headers=clinic.headers["doctor"])
    ).json()
    assert old["superseded_by"] == amended["id"]
    assert old["content"] == original["content"]
    latest = (await client.get("/api/records/", headers=clinic.headers["doctor"])).json()
    assert [item["id"] for item in latest["items"]] == [amended["id"]]
    every = (
        await client.get(
            "/api/records/", params={"include_superseded": "true"}, headers=clinic.headers["doctor"]
        )
    ).json()
    assert {item["id"] for item in every["items"]} == {original["id"], amended["id"]}
    problem(
        await client.post(
            f"/api/records/{original['id']}/amendments",
            json={"title": "Fork"},
            headers=clinic.headers["doctor"],
        ),
        409,
        "medical_record_superseded",
    )
    third = await client.post(
        f"/api/records/{amended['id']}/amendments", json={}, headers=clinic.headers["doctor"]
    )
    assert third.json()["version"] == 3


async def test_record_catalogue(client: httpx.AsyncClient, clinic: Clinic) -> None:
    body = (await client.get("/api/records/types", headers=clinic.headers["clerk"])).json()
    values = [item["value"] for item in body["record_types"]]
    assert values[:3] == ["consultation", "lab_result", "prescription"]
    assert "discharge_summary" in values
    assert body["priorities"] == ["low", "normal", "high", "urgent"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"record_type": "gossip"}, "record_type"),
        ({"priority": "whenever"}, "priority"),
        ({"title": "x" * 501}, "title"),
        ({"title": ""}, "title"),
        ({"content": "x" * 100_001}, "content"),
        ({"recorded_at": "2020-01-01T10:00:00"}, "recorded_at"),
        ({"recorded_at": (NOW + timedelta(days=2)).isoformat()}, "recorded_at"),
        ({"recorded_at": "yesterday"}, "recorded_at"),
        ({"patient_id": "42"}, "patient_id"),
        ({"author_id": str(uuid.uuid4())}, "author_id"),
    ],
)
async def test_invalid_records_are_422(
    client: httpx.AsyncClient, clinic: Clinic, overrides: dict[str, Any], field: str
) -> None:
    patient = await add_patient(client, clinic.headers["clerk"])
    body = {
        "patient_id": patient["id"],
        "record_type": "note",
        "title": "t",
        "content": "c",
        **overrides,
    }
    answer = problem(
        await client.post("/api/records/", json=body, headers=clinic.headers["doctor"]),
        422,
        "request_invalid",
    )
    assert any(error["field"].startswith(field) for error in answer["errors"]), answer
    assert (await client.get("/api/records/", headers=clinic.headers["doctor"])).json()[
        "total"
    ] == 0


async def test_bad_query_parameters_are_422(client: httpx.AsyncClient, clinic: Clinic) -> None:
    doctor = clinic.headers["doctor"]
    for params in (
        {"type": "gossip"},
        {"from": "2024-13-01"},
        {"from": "2024-01-01T10:00:00"},
        {"from": "2024-02-01", "to": "2024-01-01"},
        {"patient_id": "nope"},
        {"page_size": "1000"},
    ):
        problem(
            await client.get("/api/records/", params=params, headers=doctor), 422, "request_invalid"
        )


async def test_unknown_and_foreign_ids(
    client: httpx.AsyncClient, container: Container, clinic: Clinic
) -> None:
    other = await open_clinic(client, container, roles=(Role.CLERK, Role.DOCTOR))
    foreign_patient = await add_patient(client, other.headers["clerk"])
    foreign = await add_record(client, other.headers["doctor"], foreign_patient["id"])
    doctor = clinic.headers["doctor"]
    for record_id in (foreign["id"], str(uuid.uuid4())):
        problem(
            await client.get(f"/api/records/{record_id}", headers=doctor),
            404,
            "medical_record_not_found",
        )
        problem(
            await client.post(
                f"/api/records/{record_id}/amendments", json={"title": "x"}, headers=doctor
            ),
            404,
            "medical_record_not_found",
        )
    body = {
        "patient_id": foreign_patient["id"],
        "record_type": "note",
        "title": "t",
        "content": "c",
    }
    problem(await client.post("/api/records/", json=body, headers=doctor), 404, "patient_not_found")
    problem(
        await client.get(f"/api/records/patient/{foreign_patient['id']}", headers=doctor),
        404,
        "patient_not_found",
    )
    problem(
        await client.get(
            "/api/records/", params={"patient_id": foreign_patient["id"]}, headers=doctor
        ),
        404,
        "patient_not_found",
    )
    problem(await client.get("/api/records/not-a-uuid", headers=doctor), 422, "request_invalid")
    theirs = (
        await client.get(f"/api/records/{foreign['id']}", headers=other.headers["doctor"])
    ).json()
    assert theirs["superseded_by"] is None


async def test_metacharacters_in_records_are_verbatim(
    client: httpx.AsyncClient, clinic: Clinic
) -> None:
    patient = await add_patient(client, clinic.headers["clerk"])
    nasty = "<img src=x onerror=alert(1)> '; DELETE FROM medical_records; -- \u202e"
    record = await add_record(
        client, clinic.headers["doctor"], patient["id"], title=nasty, content=nasty
    )
    read = (
        await client.get(f"/api/records/{record['id']}", headers=clinic.headers["doctor"])
    ).json()
    assert read["title"] == nasty
    assert read["content"] == nasty
