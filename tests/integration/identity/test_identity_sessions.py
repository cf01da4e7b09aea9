"""Rotating refresh tokens, reuse detection, logout and bearer token checks."""

from __future__ import annotations

import json

import httpx
import jwt
from tests.factories import (
    auth_headers,
    create_org,
    create_user,
    login,
    problem,
    signed_in,
)

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role


async def refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/api/auth/refresh", json={"refresh_token": token})


async def profile(client: httpx.AsyncClient, access_token: str) -> httpx.Response:
    return await client.get("/api/auth/profile", headers=auth_headers(access_token))


async def test_refresh_rotates_and_a_reused_token_ends_the_family(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    user = await create_user(container, org, roles=[Role.NURSE])
    first = await login(client, user.email)

    rotated = await refresh(client, first["refresh_token"])
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["user"]["id"] == str(user.id)
    first_claims = jwt.decode(first["access_token"], options={"verify_signature": False})
    second_claims = jwt.decode(second["access_token"], options={"verify_signature": False})
    assert first_claims["sid"] == second_claims["sid"]
    assert (await profile(client, second["access_token"])).status_code == 200

    problem(await refresh(client, first["refresh_token"]), 401, "refresh_token_reused")
    problem(await refresh(client, second["refresh_token"]), 401, "token_invalid")
    problem(await profile(client, second["access_token"]), 401, "token_invalid")
    problem(await profile(client, first["access_token"]), 401, "token_invalid")

    other = await login(client, user.email)
    assert (await profile(client, other["access_token"])).status_code == 200


async def test_unknown_refresh_token_is_refused(client: httpx.AsyncClient) -> None:
    problem(await refresh(client, "made-up-token"), 401, "token_invalid")


async def test_logout_ends_the_access_and_refresh_tokens(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    user = await create_user(container, org, roles=[Role.DOCTOR])
    tokens = await login(client, user.email)
    elsewhere = await login(client, user.email)
    response = await client.post(
        "/api/auth/logout",
        json={"refresh_token": tokens["refresh_token"]},
        headers=auth_headers(tokens["access_token"]),
    )
    assert response.status_code == 204
    problem(await profile(client, tokens["access_token"]), 401, "token_invalid")
    problem(await refresh(client, tokens["refresh_token"]), 401, "token_invalid")
    assert (await profile(client, elsewhere["access_token"])).status_code == 200

    bare = await client.post("/api/auth/logout", headers=auth_headers(elsewhere["access_token"]))
    assert bare.status_code == 204
    problem(await refresh(client, elsewhere["refresh_token"]), 401, "token_invalid")


async def test_logout_needs_a_bearer_token(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/auth/logout", json={})
    problem(response, 401, "authentication_required")
    assert response.headers["www-authenticate"].startswith("Bearer")


def resigned(container: Container, token: str, **changes: object) -> str:
    claims = jwt.decode(token, options={"verify_signature": False})
    claims.update(changes)
    version = int(jwt.get_unverified_header(token)["kid"])
    key = container.keys.derive("token", version)
    return jwt.encode(claims, key, algorithm="HS256", headers={"kid": str(version)})


async def test_expired_and_tampered_access_tokens_are_refused(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    user = await create_user(container, org, roles=[Role.NURSE])
    token = (await login(client, user.email))["access_token"]
    claims = jwt.decode(token, options={"verify_signature": False})

    expired = resigned(container, token, exp=claims["iat"] - 60, iat=claims["iat"] - 960)
    body = problem(await profile(client, expired), 401, "token_expired")
    assert "refresh" in body["detail"]

    head, _payload, signature = token.split(".")
    forged_claims = {**claims, "roles": ["admin"]}
    forged_payload = jwt.utils.base64url_encode(json.dumps(forged_claims).encode())
    tampered = f"{head}.{forged_payload.decode()}.{signature}"
    problem(await profile(client, tampered), 401, "token_invalid")
    problem(await profile(client, "not.a.jwt"), 401, "token_invalid")
    problem(
        await profile(client, resigned(container, token, iss="elsewhere")), 401, "token_invalid"
    )


async def test_access_stops_when_the_account_is_deactivated(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    _, admin_headers = await signed_in(client, container, org, roles=[Role.ORG_ADMIN])
    nurse = await create_user(container, org, roles=[Role.NURSE])
    tokens = await login(client, nurse.email)
    response = await client.patch(
        f"/api/users/{nurse.id}", json={"is_active": False}, headers=admin_headers
    )
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    problem(await profile(client, tokens["access_token"]), 401, "token_invalid")
    problem(await refresh(client, tokens["refresh_token"]), 401, "token_invalid")


async def test_roles_come_from_the_account_not_the_token(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    _, admin_headers = await signed_in(client, container, org, roles=[Role.ORG_ADMIN])
    clerk = await create_user(container, org, roles=[Role.CLERK, Role.ORG_ADMIN])
    clerk_token = (await login(client, clerk.email))["access_token"]
    assert (await client.get("/api/users/", headers=auth_headers(clerk_token))).status_code == 200
    demoted = await client.patch(
        f"/api/users/{clerk.id}", json={"roles": ["clerk"]}, headers=admin_headers
    )
    assert demoted.status_code == 200
    listing = await client.get("/api/users/", headers=auth_headers(clerk_token))
    problem(listing, 403, "permission_denied")
