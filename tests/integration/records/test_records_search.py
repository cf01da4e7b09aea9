"""One search box over encrypted patients: name prefixes, MRN, date of birth, phone."""

from __future__ import annotations

import httpx
import pytest
from tests.factories import problem
from tests.integration.records.conftest import Clinic, add_patient, open_clinic, patient_account

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role


async def _seed(client: httpx.AsyncClient, clinic: Clinic) -> dict[str, str]:
    headers = clinic.headers["clerk"]
    ids = {
        "nunez": (
            await add_patient(
                client,
                headers,
                first_name="María José",
                last_name="O'Brien-Núñez",
                date_of_birth="1971-04-02",
                phone="+1 (617) 555-0142",
                mrn="X-4471",
            )
        )["id"],
        "jones": (
            await add_patient(
                client,
                headers,
                first_name="Marius",
                last_name="Jones",
                date_of_birth="1980-01-01",
                phone="(212) 555-0199",
            )
        )["id"],
        "smith": (
            await add_patient(
                client,
                headers,
                first_name="Joan",
                last_name="Smith",
                date_of_birth="1971-04-02",
                phone=None,
            )
        )["id"],
    }
    return ids


async def _found(client: httpx.AsyncClient, headers: dict[str, str], q: str) -> set[str]:
    response = await client.get("/api/patients/search", params={"q": q}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(body["items"])
    return {item["id"] for item in body["items"]}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ma", {"nunez", "jones"}),
        ("MAR", {"nunez", "jones"}),
        ("mari", {"nunez", "jones"}),
        ("maria", {"nunez"}),
        ("María", {"nunez"}),
        ("nunez", {"nunez"}),
        ("núñ", {"nunez"}),
        ("obrien", {"nunez"}),
        ("O'Bri", {"nunez"}),
        ("jo", {"nunez", "jones", "smith"}),
        ("jo sm", {"smith"}),
        ("Smith Joan", {"smith"}),
        ("x-4471", {"nunez"}),
        ("X-4471", {"nunez"}),
        ("1971-04-02", {"nunez", "smith"}),
        ("1980-01-01", {"jones"}),
        ("+16175550142", {"nunez"}),
        ("617-555-0142", {"nunez"}),
        ("(212) 555 0199", {"jones"}),
        ("zz", set()),
        ("1999-09-09", set()),
        ("jonesy", set()),
    ],
)
async def test_search_finds_by_each_key(
    client: httpx.AsyncClient, clinic: Clinic, query: str, expected: set[str]
) -> None:
    ids = await _seed(client, clinic)
    found = await _found(client, clinic.headers["doctor"], query)
    assert found == {ids[name] for name in expected}


async def test_search_follows_updates(client: httpx.AsyncClient, clinic: Clinic) -> None:
    ids = await _seed(client, clinic)
    response = await client.put(
        f"/api/patients/{ids['jones']}",
        json={"last_name": "Okafor", "mrn": "NEW-1"},
        headers=clinic.headers["clerk"],
    )
    assert response.status_code == 200
    assert await _found(client, clinic.headers["clerk"], "jones") == set()
    assert await _found(client, clinic.headers["clerk"], "oka") == {ids["jones"]}
    assert await _found(client, clinic.headers["clerk"], "new-1") == {ids["jones"]}


async def test_search_is_scoped_to_the_tenant(
    client: httpx.AsyncClient, container: Container, clinic: Clinic
) -> None:
    await _seed(client, clinic)
    other = await open_clinic(client, container, roles=(Role.DOCTOR,))
    assert await _found(client, other.headers["doctor"], "maria") == set()
    assert await _found(client, other.headers["doctor"], "1971-04-02") == set()


async def test_a_patient_searches_only_their_own_chart(
    client: httpx.AsyncClient, container: Container, clinic: Clinic
) -> None:
    ids = await _seed(client, clinic)
    _, headers = await patient_account(client, container, clinic, ids["jones"])
    assert await _found(client, headers, "ma") == {ids["jones"]}


async def test_search_paging(client: httpx.AsyncClient, clinic: Clinic) -> None:
    for index in range(3):
        await add_patient(client, clinic.headers["clerk"], first_name=f"Eva{index}")
    page = (
        await client.get(
            "/api/patients/search",
            params={"q": "eva", "page": 2, "page_size": 2},
            headers=clinic.headers["clerk"],
        )
    ).json()
    assert page["total"] == 3
    assert len(page["items"]) == 1


@pytest.mark.parametrize("query", ["", "a", " j ", "x" * 101, "2024-02-30"])
async def test_unusable_queries_are_422(
    client: httpx.AsyncClient, clinic: Clinic, query: str
) -> None:
    response = await client.get(
        "/api/patients/search", params={"q": query}, headers=clinic.headers["clerk"]
    )
    body = problem(response, 422, response.json()["code"])
    assert body["code"] in {"search_query_invalid", "request_invalid"}
    # Without q a filter is needed: nothing at all is not "every patient".
    body = problem(
        await client.get("/api/patients/search", headers=clinic.headers["clerk"]),
        422,
        "search_query_invalid",
    )
    assert "gender, blood_type, age_min, age_max" in body["detail"]
