"""A query parameter an API route does not know is refused, never silently ignored."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from tests.factories import problem
from tests.integration.records.conftest import Clinic, add_patient, open_clinic

from clinvault.api_contract import api_routes
from clinvault.bootstrap import Container
from clinvault.query_contract import accepted_query


@pytest.fixture
async def clinic(client: httpx.AsyncClient, container: Container) -> Clinic:
    return await open_clinic(client, container)


async def test_mistyped_filter_is_named_with_the_accepted_ones(
    client: httpx.AsyncClient, clinic: Clinic
) -> None:
    headers = clinic.headers["clerk"]
    await add_patient(client, headers)
    response = await client.get(
        "/api/patients/", params={"page": 1, "per_pag": 50}, headers=headers
    )
    body = problem(response, 400, "query_parameter_unknown")
    assert "per_pag" in body["detail"]
    assert [error["field"] for error in body["errors"]] == ["per_pag"]
    assert body["errors"][0]["in"] == "query"
    assert "page" in body["errors"][0]["accepted"]


async def test_declared_parameters_still_work(client: httpx.AsyncClient, clinic: Clinic) -> None:
    headers = clinic.headers["clerk"]
    await add_patient(client, headers, first_name="Grace")
    response = await client.get("/api/patients/search", params={"q": "grace"}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["total"] == 1


async def test_route_without_query_parameters_refuses_any(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/health/health", params={"verbose": "1"})
    body = problem(response, 400, "query_parameter_unknown")
    assert "verbose" in body["detail"]
    assert "accepts: none" in body["detail"]
    head = await client.head("/api/health/health", params={"verbose": "1"})
    assert head.status_code == 400


async def test_refused_before_authentication_is_needed(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/patients/", params={"sort": "name"})
    problem(response, 400, "query_parameter_unknown")


async def test_portal_pages_ignore_unknown_parameters(client: httpx.AsyncClient) -> None:
    response = await client.get("/login", params={"utm_source": "mail"})
    assert response.status_code == 200


def test_every_api_route_has_a_known_query_set(app: FastAPI) -> None:
    routes = [route for path, route in api_routes(app) if path.startswith("/api/")]
    assert routes
    sets = {route.name: accepted_query(route) for route in routes}
    assert {"page", "page_size"} <= sets["records.patient.list"]
    assert "q" in sets["records.patient.search"]


async def test_per_page_is_honoured_on_page_lists(
    client: httpx.AsyncClient, clinic: Clinic
) -> None:
    headers = clinic.headers["clerk"]
    for index in range(3):
        await add_patient(client, headers, first_name=f"Per{index}")
    response = await client.get("/api/patients/", params={"per_page": 2}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["page_size"] == 2
    assert len(response.json()["items"]) == 2
    both = await client.get(
        "/api/patients/", params={"per_page": 2, "page_size": 3}, headers=headers
    )
    problem(both, 422, "request_invalid")


async def test_page_and_per_page_on_limit_offset_lists(
    client: httpx.AsyncClient, clinic: Clinic
) -> None:
    headers = clinic.headers["org_admin"]
    everyone = await client.get("/api/users/", headers=headers)
    assert everyone.status_code == 200, everyone.text
    emails = [user["email"] for user in everyone.json()["items"]]
    assert len(emails) >= 3
    second = await client.get("/api/users/", params={"page": 2, "per_page": 1}, headers=headers)
    assert second.status_code == 200, second.text
    assert second.json()["limit"] == 1
    assert second.json()["offset"] == 1
    assert [user["email"] for user in second.json()["items"]] == emails[1:2]
    mixed = await client.get("/api/users/", params={"page": 2, "limit": 1}, headers=headers)
    problem(mixed, 422, "request_invalid")
    wrong = await client.get("/api/users/", params={"per_page": "ten"}, headers=headers)
    problem(wrong, 422, "request_invalid")
