"""Errors, request ids, security headers, body limits and health, over HTTP."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from clinvault.bootstrap import Container
from clinvault.models import AuditEvent

PROBLEM = "application/problem+json"


async def audit_count(container: Container) -> int:
    async with container.db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


async def test_unknown_path_is_a_problem_with_a_request_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["code"] == "not_found"
    assert body["status"] == 404
    assert body["request_id"] == response.headers["x-request-id"]
    assert body["instance"] == "/api/nothing-here"


async def test_a_sane_incoming_request_id_is_kept(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"x-request-id": "trace-abc-123456"})
    assert response.headers["x-request-id"] == "trace-abc-123456"
    hostile = await client.get("/healthz", headers={"x-request-id": "bad id\r\nx: y"})
    assert hostile.headers["x-request-id"] != "bad id\r\nx: y"
    assert len(hostile.headers["x-request-id"]) == 24


async def test_malformed_json_is_a_400_problem(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/auth/login", content=b'{"username": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "body_malformed"


async def test_wrong_types_list_every_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/auth/login", json={"username": 12, "password": ["x"]})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "request_invalid"
    fields = {error["field"] for error in body["errors"]}
    assert {"username", "password"} <= fields


async def test_an_oversized_body_is_refused_before_it_is_read(
    client: httpx.AsyncClient, container: Container
) -> None:
    before = await audit_count(container)
    limit = container.settings.security.max_json_body_bytes
    response = await client.post(
        "/api/auth/login",
        content=b"x" * (limit + 1),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "body_too_large"
    assert await audit_count(container) == before + 1


async def test_an_oversized_chunked_body_is_cut_off(client: httpx.AsyncClient) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(40):
            yield b"y" * 65536

    response = await client.post(
        "/api/auth/login", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"


@pytest.mark.parametrize("path", ["/api/health/health", "/api/nothing-here"])
async def test_api_responses_carry_security_headers(client: httpx.AsyncClient, path: str) -> None:
    headers = (await client.get(path)).headers
    assert "default-src 'none'" in headers["content-security-policy"]
    assert "unsafe-inline" not in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cache-control"] == "no-store"


async def test_health_reports_each_dependency(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/health/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"
    assert body["checks"] == {"database": "ok", "storage": "ok", "keys": "ok"}
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


async def test_probes_are_not_audited_but_api_health_is(
    client: httpx.AsyncClient, container: Container
) -> None:
    before = await audit_count(container)
    await client.get("/healthz")
    await client.get("/readyz")
    assert await audit_count(container) == before
    await client.get("/api/health/health")
    assert await audit_count(container) == before + 1


async def test_an_unexpected_error_is_a_logged_500_without_internals(
    app: FastAPI, client: httpx.AsyncClient, container: Container
) -> None:
    async def explode() -> None:
        raise RuntimeError("secret internals")

    app.add_api_route("/api/test-explode", explode, name="test.explode")
    try:
        before = await audit_count(container)
        response = await client.get("/api/test-explode")
        assert response.status_code == 500
        assert response.headers["content-type"] == PROBLEM
        assert "secret internals" not in response.text
        assert response.json()["code"] == "internal_error"
        assert response.headers["x-request-id"]
        assert await audit_count(container) == before + 1
    finally:
        app.router.routes[:] = [
            r for r in app.router.routes if getattr(r, "path", "") != "/api/test-explode"
        ]


async def test_an_upload_limit_does_not_widen_the_json_limit_of_its_neighbours(
    client: httpx.AsyncClient, container: Container
) -> None:
    """Attachments may be large; the JSON routes beside them keep the JSON limit."""
    limit = container.settings.security.max_json_body_bytes
    assert container.settings.records.max_attachment_bytes > 2 * limit
    response = await client.post(
        "/api/records/",
        content=b"x" * (2 * limit),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"
