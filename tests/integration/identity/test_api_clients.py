"""API clients: administration, the client-credentials grant, revocation and rotation."""

from __future__ import annotations

import hashlib
import uuid

import httpx
import pytest
from sqlalchemy import select
from tests.factories import create_org, problem, signed_in
from tests.integration.identity.api_clients_support import (
    basic,
    bearer,
    exchange_basic,
    exchange_body,
    new_client,
    oauth_error,
)

from clinvault.bootstrap import Container
from clinvault.errors import TokenInvalid
from clinvault.identity.principal import Role
from clinvault.identity.tokens import TokenIssuer
from clinvault.models.audit import AuditEvent
from clinvault.models.identity import ApiClient


async def test_admin_creates_lists_and_reads_a_client_whose_secret_is_shown_once(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    made = await new_client(client, container, org)
    assert made.secret.startswith("cvs_")
    assert len(made.secret) >= 40
    listing = await client.get("/api/clients", headers=made.admin)
    assert listing.status_code == 200, listing.text
    [row] = listing.json()
    assert row["client_id"] == made.id
    assert row["scopes"] == ["ingest"]
    assert row["active"] is True
    assert "client_secret" not in row
    read = await client.get(f"/api/clients/{made.id}", headers=made.admin)
    assert read.json()["name"] == "EHR export"
    assert "client_secret" not in read.json()
    async with container.db.sessions() as session:
        stored = (await session.scalars(select(ApiClient))).all()
    digests = {c.secret_hash for c in stored}
    assert hashlib.sha256(made.secret.encode()).hexdigest() in digests
    assert all(made.secret not in d for d in digests)


async def test_only_an_organization_admin_manages_clients_and_scopes_come_from_the_list(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    made = await new_client(client, container, org)
    _, clerk = await signed_in(client, container, org, roles=[Role.CLERK])
    body = {"name": "x", "scopes": ["ingest"]}
    problem(await client.post("/api/clients", json=body, headers=clerk), 403, "permission_denied")
    problem(await client.get("/api/clients", headers=clerk), 403, "permission_denied")
    problem(
        await client.post(f"/api/clients/{made.id}/revoke", headers=clerk), 403, "permission_denied"
    )
    problem(
        await client.post(
            "/api/clients", json={"name": "x", "scopes": ["admin"]}, headers=made.admin
        ),
        422,
        "request_invalid",
    )
    problem(
        await client.post("/api/clients", json={"name": "x", "scopes": []}, headers=made.admin),
        422,
        "request_invalid",
    )
    other = await new_client(client, container, await create_org(container))
    problem(
        await client.get(f"/api/clients/{other.id}", headers=made.admin),
        404,
        "api_client_not_found",
    )
    problem(
        await client.post(f"/api/clients/{other.id}/rotate-secret", headers=made.admin),
        404,
        "api_client_not_found",
    )
    assert [
        c["client_id"] for c in (await client.get("/api/clients", headers=made.admin)).json()
    ] == [made.id]


async def test_token_by_basic_and_by_body_is_a_short_lived_client_token(
    client: httpx.AsyncClient, container: Container
) -> None:
    made = await new_client(client, container, await create_org(container))
    for answer in (
        await exchange_basic(client, made.id, made.secret),
        await exchange_body(client, made.id, made.secret),
    ):
        assert answer.status_code == 200, answer.text
        assert answer.headers["cache-control"] == "no-store"
        body = answer.json()
        assert body["token_type"] == "Bearer"
        assert body["scope"] == "ingest"
        assert 0 < body["expires_in"] <= 15 * 60
        jobs = await client.get(
            "/api/ingest/jobs", headers={"Authorization": f"Bearer {body['access_token']}"}
        )
        assert jobs.status_code == 200, jobs.text
    narrowed = await exchange_basic(client, made.id, made.secret, scope="ingest")
    assert narrowed.json()["scope"] == "ingest"
    oauth_error(
        await exchange_basic(client, made.id, made.secret, scope="ingest admin"),
        400,
        "invalid_scope",
    )


async def test_a_client_token_is_never_a_user_token(
    client: httpx.AsyncClient, container: Container
) -> None:
    made = await new_client(client, container, await create_org(container))
    headers = await bearer(client, made)
    problem(await client.get("/api/auth/profile", headers=headers), 403, "api_client_scope_denied")
    issuer = TokenIssuer(container.keys, container.settings.security)
    with pytest.raises(TokenInvalid):
        issuer.verify_access(headers["Authorization"].removeprefix("Bearer "))


async def test_wrong_secret_and_unknown_client_get_the_same_answer(
    client: httpx.AsyncClient, container: Container
) -> None:
    made = await new_client(client, container, await create_org(container))
    wrong = oauth_error(
        await exchange_basic(client, made.id, made.secret + "x"), 401, "invalid_client"
    )
    unknown = oauth_error(
        await exchange_basic(client, "0192e0a4-0000-7000-8000-000000000000", made.secret),
        401,
        "invalid_client",
    )
    garbage = oauth_error(await exchange_body(client, "not-an-id", "nope"), 401, "invalid_client")
    assert wrong == unknown == garbage
    assert (
        (await exchange_basic(client, made.id, "x")).headers["www-authenticate"].startswith("Basic")
    )


async def test_grant_errors_follow_rfc_6749(
    client: httpx.AsyncClient, container: Container
) -> None:
    made = await new_client(client, container, await create_org(container))
    oauth_error(
        await client.post(
            "/api/auth/token", data={"grant_type": "password"}, headers=basic(made.id, made.secret)
        ),
        400,
        "unsupported_grant_type",
    )
    oauth_error(
        await client.post("/api/auth/token", data={}, headers=basic(made.id, made.secret)),
        400,
        "invalid_request",
    )
    oauth_error(
        await client.post(
            "/api/auth/token",
            json={"grant_type": "client_credentials"},
            headers=basic(made.id, made.secret),
        ),
        400,
        "invalid_request",
    )
    oauth_error(
        await client.post(
            "/api/auth/token",
            data={"grant_type": "client_credentials", "client_id": made.id, "client_secret": "s"},
            headers=basic(made.id, made.secret),
        ),
        400,
        "invalid_request",
    )
    oauth_error(
        await client.post("/api/auth/token", data={"grant_type": "client_credentials"}),
        401,
        "invalid_client",
    )


async def test_failed_client_authentications_lock_the_client_id_like_sign_ins(
    client: httpx.AsyncClient, container: Container
) -> None:
    made = await new_client(client, container, await create_org(container))
    threshold = container.settings.security.lockout_threshold
    for _ in range(threshold):
        oauth_error(await exchange_basic(client, made.id, "wrong"), 401, "invalid_client")
    locked = problem(
        await exchange_basic(client, made.id, made.secret), 429, "api_client_throttled"
    )
    assert "seconds" in locked["detail"]
    unknown = "0192e0a4-0000-7000-8000-00000000abcd"
    for _ in range(threshold):
        oauth_error(await exchange_basic(client, unknown, "wrong"), 401, "invalid_client")
    problem(await exchange_basic(client, unknown, "wrong"), 429, "api_client_throttled")


async def test_revoked_client_token_fails_on_the_next_request(
    client: httpx.AsyncClient, container: Container
) -> None:
    made = await new_client(client, container, await create_org(container))
    headers = await bearer(client, made)
    assert (await client.get("/api/ingest/jobs", headers=headers)).status_code == 200
    revoked = await client.post(f"/api/clients/{made.id}/revoke", headers=made.admin)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["active"] is False
    problem(await client.get("/api/ingest/jobs", headers=headers), 401, "token_invalid")
    oauth_error(await exchange_basic(client, made.id, made.secret), 401, "invalid_client")
    problem(
        await client.post(f"/api/clients/{made.id}/rotate-secret", headers=made.admin),
        409,
        "api_client_revoked",
    )


async def test_rotated_secret_replaces_the_old_one_and_its_tokens(
    client: httpx.AsyncClient, container: Container
) -> None:
    made = await new_client(client, container, await create_org(container))
    old_headers = await bearer(client, made)
    rotated = await client.post(f"/api/clients/{made.id}/rotate-secret", headers=made.admin)
    assert rotated.status_code == 200, rotated.text
    secret = rotated.json()["client_secret"]
    assert secret != made.secret
    assert rotated.json()["rotated_at"]
    problem(await client.get("/api/ingest/jobs", headers=old_headers), 401, "token_invalid")
    oauth_error(await exchange_basic(client, made.id, made.secret), 401, "invalid_client")
    fresh = await exchange_basic(client, made.id, secret)
    assert fresh.status_code == 200, fresh.text
    jobs = await client.get(
        "/api/ingest/jobs", headers={"Authorization": f"Bearer {fresh.json()['access_token']}"}
    )
    assert jobs.status_code == 200


async def test_client_requests_are_audited_with_the_client_as_actor(
    client: httpx.AsyncClient, container: Container
) -> None:
    made = await new_client(client, container, await create_org(container))
    headers = await bearer(client, made)
    assert (await client.get("/api/ingest/jobs", headers=headers)).status_code == 200
    assert (await client.get("/api/patients/", headers=headers)).status_code == 403
    async with container.db.sessions() as session:
        events = (
            await session.scalars(
                select(AuditEvent)
                .where(AuditEvent.actor_id == uuid.UUID(made.id))
                .order_by(AuditEvent.seq)
            )
        ).all()
    assert [(e.action, e.status_code) for e in events] == [
        ("auth.token", 200),
        ("ingest.job.list", 200),
        ("records.patient.list", 403),
    ]
    assert {e.actor_roles for e in events} == {"client:ingest"}
    assert {e.organization_id for e in events} == {made.org.id}
