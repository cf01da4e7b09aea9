"""Exactly one audit event per request, whatever the request's fate."""

from __future__ import annotations

import json

import httpx
import pytest
from tests.factories import DEFAULT_PASSWORD, create_org, create_user, signed_in
from tests.integration.audit.audit_support import all_events

from clinvault.audit.export import event_record
from clinvault.bootstrap import Container
from clinvault.identity.principal import Role
from clinvault.models import AuditEvent

AGENT = "audit-probe/1.0 (+https://example.org)"
CLIENT_IP = "203.0.113.7"


async def only_event(container: Container, response: httpx.Response, before: int) -> AuditEvent:
    """The single event the response left: one more row, carrying its request id."""
    events = await all_events(container)
    assert len(events) == before + 1
    request_id = response.headers["x-request-id"]
    matching = [event for event in events if event.request_id == request_id]
    assert len(matching) == 1
    event = matching[0]
    assert event.client_ip == CLIENT_IP
    assert event.user_agent == AGENT
    assert event.mac
    return event


@pytest.fixture
def agent() -> dict[str, str]:
    return {"User-Agent": AGENT}


async def count(container: Container) -> int:
    return len(await all_events(container))


async def test_an_unauthenticated_read_is_a_denied_event(
    client: httpx.AsyncClient, container: Container, agent: dict[str, str]
) -> None:
    before = await count(container)
    response = await client.get("/api/auth/profile", headers=agent)
    assert response.status_code == 401
    event = await only_event(container, response, before)
    assert (event.action, event.status_code, event.outcome) == ("auth.profile", 401, "denied")
    assert (event.method, event.path) == ("GET", "/api/auth/profile")
    assert event.actor_id is None


async def test_an_unrouted_path_is_recorded(
    client: httpx.AsyncClient, container: Container, agent: dict[str, str]
) -> None:
    before = await count(container)
    response = await client.delete("/api/nowhere/at/all", headers=agent)
    assert response.status_code == 404
    event = await only_event(container, response, before)
    assert (event.action, event.status_code, event.outcome) == ("http.unrouted", 404, "failure")
    assert (event.method, event.path) == ("DELETE", "/api/nowhere/at/all")


async def test_a_malformed_body_is_recorded_once(
    client: httpx.AsyncClient, container: Container, agent: dict[str, str]
) -> None:
    before = await count(container)
    response = await client.post(
        "/api/auth/login",
        content=b'{"username": "x@example.org", "password": ',
        headers={**agent, "content-type": "application/json"},
    )
    assert response.status_code == 400
    event = await only_event(container, response, before)
    assert (event.action, event.status_code, event.outcome) == ("auth.login", 400, "failure")
    assert "x@example.org" not in json.dumps(event_record(event))


async def test_the_health_endpoint_is_recorded(
    client: httpx.AsyncClient, container: Container, agent: dict[str, str]
) -> None:
    before = await count(container)
    response = await client.get("/api/health/health", headers=agent)
    assert response.status_code == 200
    event = await only_event(container, response, before)
    assert (event.action, event.status_code, event.outcome) == ("health.status", 200, "success")


async def test_a_sign_in_is_recorded_without_the_credentials(
    client: httpx.AsyncClient, container: Container, agent: dict[str, str]
) -> None:
    org = await create_org(container)
    user = await create_user(container, org, roles=[Role.DOCTOR])
    before = await count(container)
    response = await client.post(
        "/api/auth/login",
        json={"username": user.email, "password": DEFAULT_PASSWORD},
        headers={**agent, "x-request-id": "login-trace-0001"},
    )
    assert response.status_code == 200
    event = await only_event(container, response, before)
    assert event.request_id == "login-trace-0001"
    assert (event.action, event.status_code, event.outcome) == ("auth.login", 200, "success")
    assert (event.actor_id, event.organization_id) == (user.id, org.id)
    serialized = json.dumps(event_record(event))
    assert user.email not in serialized
    assert DEFAULT_PASSWORD not in serialized


async def test_a_failed_sign_in_leaves_one_denied_event(
    client: httpx.AsyncClient, container: Container, agent: dict[str, str]
) -> None:
    org = await create_org(container)
    user = await create_user(container, org, roles=[Role.DOCTOR])
    before = await count(container)
    wrong = "not the password at all"
    response = await client.post(
        "/api/auth/login", json={"username": user.email, "password": wrong}, headers=agent
    )
    assert response.status_code == 401
    event = await only_event(container, response, before)
    assert (event.action, event.status_code, event.outcome) == ("auth.login", 401, "denied")
    assert event.actor_id == user.id
    serialized = json.dumps(event_record(event))
    assert user.email not in serialized
    assert wrong not in serialized


async def test_an_authenticated_read_names_the_actor(
    client: httpx.AsyncClient, container: Container, agent: dict[str, str]
) -> None:
    org = await create_org(container)
    user, headers = await signed_in(client, container, org, roles=[Role.NURSE, Role.CLERK])
    before = await count(container)
    response = await client.get("/api/auth/profile", headers={**headers, **agent})
    assert response.status_code == 200
    event = await only_event(container, response, before)
    assert (event.action, event.status_code, event.outcome) == ("auth.profile", 200, "success")
    assert (event.actor_id, event.organization_id) == (user.id, org.id)
    assert event.actor_roles == "clerk,nurse"


async def test_a_denied_read_is_recorded(
    client: httpx.AsyncClient, container: Container, agent: dict[str, str]
) -> None:
    org = await create_org(container)
    doctor, headers = await signed_in(client, container, org, roles=[Role.DOCTOR])
    before = await count(container)
    response = await client.get("/api/audit/logs", headers={**headers, **agent})
    assert response.status_code == 403
    event = await only_event(container, response, before)
    assert (event.action, event.status_code, event.outcome) == ("audit.logs.list", 403, "denied")
    assert (event.actor_id, event.resource_type) == (doctor.id, "audit_log")


async def test_a_cross_tenant_read_is_recorded_as_not_found(
    client: httpx.AsyncClient, container: Container, agent: dict[str, str]
) -> None:
    home, elsewhere = await create_org(container), await create_org(container)
    stranger = await create_user(container, elsewhere, roles=[Role.DOCTOR])
    admin, headers = await signed_in(client, container, home, roles=[Role.ORG_ADMIN])
    before = await count(container)
    response = await client.get(f"/api/users/{stranger.id}", headers={**headers, **agent})
    assert response.status_code == 404
    event = await only_event(container, response, before)
    assert (event.action, event.status_code, event.outcome) == ("users.read", 404, "failure")
    assert (event.actor_id, event.organization_id) == (admin.id, home.id)
    assert (event.resource_type, event.resource_id) == ("user", str(stranger.id))
