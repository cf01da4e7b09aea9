"""Inputs that used to reach a 500: each class refused as a 4xx problem on both databases."""

from __future__ import annotations

import json

import httpx
import pytest
from tests.factories import create_org, create_platform_admin, login, problem, signed_in
from tests.integration.credentials.support import form, metadata, pdf_file, practitioner

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role

PAST_BIGINT = str(2**63)
LIST_ROUTES = [
    "/api/users/",
    "/api/organizations",
    "/api/audit/logs",
    "/api/notifications",
    "/api/credentials/review-queue",
]


async def _admin(client: httpx.AsyncClient, container: Container) -> dict[str, str]:
    admin = await create_platform_admin(container)
    token = (await login(client, admin.email))["access_token"]
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("path", LIST_ROUTES)
async def test_an_offset_past_the_database_range_is_a_422(
    client: httpx.AsyncClient, container: Container, path: str
) -> None:
    headers = await _admin(client, container)
    body = problem(
        await client.get(path, params={"offset": PAST_BIGINT}, headers=headers),
        422,
        "request_invalid",
    )
    assert body["errors"][0]["field"] == "offset"
    assert "10000000" in body["errors"][0]["message"]


async def test_page_numbers_and_days_are_bounded(
    client: httpx.AsyncClient, container: Container
) -> None:
    headers = await _admin(client, container)
    for path, params in (
        ("/api/patients/", {"page": PAST_BIGINT}),
        ("/api/credentials/expiring", {"within_days": PAST_BIGINT}),
    ):
        response = await client.get(path, params=params, headers=headers)
        assert response.status_code == 422, (path, response.text)


async def test_nul_bytes_are_refused_in_every_text_field(
    client: httpx.AsyncClient, container: Container
) -> None:
    login_reply = await client.post(
        "/api/auth/login", json={"username": "a\u0000@example.org", "password": "x"}
    )
    body = problem(login_reply, 422, "request_invalid")
    assert body["errors"][0]["field"] == "username"
    assert "U+0000" in body["errors"][0]["message"]

    registration = await client.post(
        "/api/auth/register",
        json={
            "organization": "some-clinic",
            "email": "p@example.org",
            "password": "correct horse battery staple",
            "display_name": "Pat\u0000",
        },
    )
    assert problem(registration, 422, "request_invalid")["errors"][0]["field"] == "display_name"

    org = await create_org(container)
    _, admin = await signed_in(client, container, org, roles=[Role.ORG_ADMIN])
    category = await client.post(
        "/api/credentials/categories",
        json={"code": "state_permit", "label": "Permit\u0000"},
        headers=admin,
    )
    assert problem(category, 422, "request_invalid")["errors"][0]["field"] == "label"
    audit = await client.get("/api/audit/logs", params={"action": "auth.\x00"}, headers=admin)
    assert problem(audit, 422, "request_invalid")["errors"][0]["field"] == "action"
    users = await client.get("/api/users/", params={"q": "a\x07"}, headers=admin)
    assert problem(users, 422, "request_invalid")["errors"][0]["field"] == "q"
    search = await client.get("/api/patients/search", params={"q": "\x00"}, headers=admin)
    assert search.status_code == 422


async def test_multi_line_fields_keep_line_breaks(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    _, clerk = await signed_in(client, container, org, roles=[Role.CLERK])
    created = await client.post(
        "/api/patients/",
        json={
            "first_name": "Ada",
            "last_name": "Byron",
            "date_of_birth": "1990-01-01",
            "gender": "female",
            "address": "1 Main St\nSpringfield",
        },
        headers=clerk,
    )
    assert created.status_code == 201, created.text
    assert created.json()["address"] == "1 Main St\nSpringfield"


async def test_a_deeply_nested_json_body_is_a_400(client: httpx.AsyncClient) -> None:
    deep = b"[" * 50_000 + b"]" * 50_000
    reply = await client.post(
        "/api/auth/login", content=deep, headers={"content-type": "application/json"}
    )
    body = problem(reply, 400, "json_too_deep")
    assert "at most 32" in body["detail"]


async def test_deeply_nested_metadata_is_a_clean_problem(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    _, doctor = await practitioner(client, container, org)
    deep = "[" * 100_000 + "]" * 100_000
    reply = await client.post(
        "/api/credentials/submissions", headers=doctor, **form([pdf_file()], deep)
    )
    body = problem(reply, 422, "credential_metadata_invalid")
    assert "nests arrays and objects" in body["detail"]


async def test_metadata_must_be_an_array_even_for_one_file(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    _, doctor = await practitioner(client, container, org)
    single = json.dumps(metadata("medical_license"))
    reply = await client.post(
        "/api/credentials/submissions", headers=doctor, **form([pdf_file()], single)
    )
    body = problem(reply, 422, "credential_metadata_invalid")
    assert "single object" in body["detail"]
    assert "[{...}]" in body["detail"]


@pytest.mark.parametrize(
    ("field", "value"), [("issued_on", "0001-01-01"), ("expires_on", "9999-12-31")]
)
async def test_implausible_document_dates_are_refused_naming_the_field(
    client: httpx.AsyncClient, container: Container, field: str, value: str
) -> None:
    org = await create_org(container)
    _, doctor = await practitioner(client, container, org)
    entry = metadata("medical_license", **{field: value})
    reply = await client.post(
        "/api/credentials/submissions", headers=doctor, **form([pdf_file()], [entry])
    )
    assert reply.status_code == 422, reply.text
    assert f"metadata[0].{field}: must be between 1900-01-01 and 2199-12-31" in reply.text


async def test_undeclared_methods_are_405_with_allow_and_head_answers(
    client: httpx.AsyncClient,
) -> None:
    reply = await client.delete("/api/auth/login")
    problem(reply, 405, "method_not_allowed")
    assert reply.headers["allow"] == "POST"
    head = await client.head("/api/health/health")
    assert head.status_code in (200, 503)
    assert head.content == b""
