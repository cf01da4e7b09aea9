"""Bad input on the identity API: every error is problem+json with a machine code."""

from __future__ import annotations

import httpx
import pytest
from tests.factories import create_org, problem, signed_in

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role


@pytest.mark.parametrize(
    "path",
    [
        "/api/auth/login",
        "/api/auth/login/mfa",
        "/api/auth/refresh",
        "/api/auth/register",
        "/api/invitations/accept",
    ],
)
async def test_malformed_json_is_a_400_problem(client: httpx.AsyncClient, path: str) -> None:
    response = await client.post(
        path, content=b'{"username": "a@b.c", ', headers={"content-type": "application/json"}
    )
    problem(response, 400, "body_malformed")


async def test_wrong_types_are_a_422_listing_the_fields(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/auth/login", json={"username": ["x"], "password": 5, "totp_code": {}}
    )
    body = problem(response, 422, "request_invalid")
    assert {e["field"] for e in body["errors"]} == {"username", "password", "totp_code"}
    assert "password" in body["detail"]


async def test_missing_fields_and_extra_fields(client: httpx.AsyncClient) -> None:
    missing = problem(await client.post("/api/auth/login", json={}), 422, "request_invalid")
    assert {e["field"] for e in missing["errors"]} == {"username", "password"}
    extra = await client.post(
        "/api/auth/login", json={"username": "a@example.org", "password": "x", "admin": True}
    )
    assert [e["field"] for e in problem(extra, 422, "request_invalid")["errors"]] == ["admin"]


async def test_protected_routes_need_a_bearer_token(client: httpx.AsyncClient) -> None:
    for method, path in [
        ("GET", "/api/auth/profile"),
        ("POST", "/api/auth/mfa/enroll"),
        ("GET", "/api/users/"),
        ("GET", "/api/organizations"),
        ("POST", "/api/invitations"),
    ]:
        response = await client.request(method, path)
        problem(response, 401, "authentication_required")
        assert response.headers["www-authenticate"] == 'Bearer realm="clinvault"'
    wrong_scheme = await client.get("/api/auth/profile", headers={"Authorization": "Basic eDp5"})
    problem(wrong_scheme, 401, "authentication_required")


async def test_malformed_ids_and_unknown_ids(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    _, headers = await signed_in(client, container, org, roles=[Role.ORG_ADMIN])
    problem(await client.get("/api/users/not-a-uuid", headers=headers), 422, "request_invalid")
    problem(
        await client.get("/api/users/00000000-0000-7000-8000-000000000000", headers=headers),
        404,
        "user_not_found",
    )
    problem(await client.delete("/api/users/roles", headers=headers), 405, "method_not_allowed")
