"""Search totals: each patient counted once, counting capped for broad queries."""

from __future__ import annotations

from typing import Any

import httpx
from tests.integration.records.conftest import Clinic, add_patient, patient_body

from clinvault.bootstrap import Container
from clinvault.records.patients.repository import SEARCH_COUNT_CAP
from clinvault.records.patients.schemas import PatientCreate
from clinvault.records.patients.writer import create_patient


async def _search(
    client: httpx.AsyncClient, headers: dict[str, str], q: str, **paging: int
) -> dict[str, Any]:
    response = await client.get("/api/patients/search", params={"q": q, **paging}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_an_mrn_match_is_added_to_the_name_matches_once(
    client: httpx.AsyncClient, clinic: Clinic
) -> None:
    clerk = clinic.headers["clerk"]
    maria = await add_patient(client, clerk, first_name="Maria", last_name="Lopez")
    marius = await add_patient(client, clerk, first_name="Marius", last_name="Jones", mrn="MARIUS")
    smith = await add_patient(client, clerk, first_name="Joan", last_name="Smith", mrn="MARI")

    in_id_order = sorted([maria["id"], marius["id"], smith["id"]])
    by_name_and_mrn = await _search(client, clerk, "mari")
    assert [item["id"] for item in by_name_and_mrn["items"]] == in_id_order
    assert (by_name_and_mrn["total"], by_name_and_mrn["total_exact"]) == (3, True)

    both_ways = await _search(client, clerk, "marius")
    assert [item["id"] for item in both_ways["items"]] == [marius["id"]]
    assert both_ways["total"] == 1

    second_page = await _search(client, clerk, "mari", page=2, page_size=2)
    assert [item["id"] for item in second_page["items"]] == in_id_order[2:]
    assert second_page["total"] == 3


async def test_words_beyond_the_indexed_ones_are_checked_on_the_names(
    client: httpx.AsyncClient, clinic: Clinic
) -> None:
    clerk = clinic.headers["clerk"]
    names = {"first_name": "Anna Beatrix Cornelia", "last_name": "Dorothea Ek"}
    wanted = await add_patient(client, clerk, **names)
    await add_patient(client, clerk, **{**names, "last_name": "Dorothea Lund"})

    found = await _search(client, clerk, "anna beatrix cornelia dorothea ek")
    assert [item["id"] for item in found["items"]] == [wanted["id"]]
    assert found["total"] == 1


async def test_broad_searches_report_a_lower_bound(
    client: httpx.AsyncClient, container: Container, clinic: Clinic
) -> None:
    many = SEARCH_COUNT_CAP + 5
    async with container.db.unit_of_work() as session:
        for index in range(many):
            data = PatientCreate(**patient_body(first_name="Capucine", last_name=f"Roe{index}"))
            await create_patient(
                session,
                container.blind_index,
                organization_id=clinic.org.id,
                data=data,
                default_country_code="1",
            )
    doctor = clinic.headers["doctor"]

    first = await _search(client, doctor, "cap", page_size=20)
    assert len(first["items"]) == 20
    assert first["total"] == SEARCH_COUNT_CAP + 1
    assert first["total_exact"] is False

    last_page = 1 + (many - 1) // 20
    last = await _search(client, doctor, "cap", page=last_page, page_size=20)
    assert len(last["items"]) == many - 20 * (last_page - 1)
    assert (last["total"], last["total_exact"]) == (many, True)

    past = await _search(client, doctor, "cap", page=last_page + 1, page_size=20)
    assert past["items"] == []
    assert (past["total"], past["total_exact"]) == (SEARCH_COUNT_CAP + 1, False)

    narrow = await _search(client, doctor, "capucine roe1000")
    assert [item["last_name"] for item in narrow["items"]] == ["Roe1000"]
    assert (narrow["total"], narrow["total_exact"]) == (1, True)
