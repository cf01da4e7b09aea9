"""/api/health/metrics: Prometheus text read back by prometheus-client's own parser."""

from __future__ import annotations

import httpx
import pytest
from dbos import DBOS
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from tests.factories import create_org, problem, signed_in
from tests.integration.credentials.support import metadata, pdf_file, practitioner, submitted
from tests.integration.records.conftest import member

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role


def _families(text: str) -> dict[str, list[tuple[str, dict[str, str], float]]]:
    return {
        family.name: [(s.name, s.labels, s.value) for s in family.samples]
        for family in text_string_to_metric_families(text)
    }


async def test_org_admin_scrapes_requests_latency_pool_and_login_failures(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    _, admin = await member(container, org, Role.ORG_ADMIN)
    assert (await client.get("/api/health/live")).status_code == 200
    refused = await client.post(
        "/api/auth/login", json={"username": "nobody@example.org", "password": "wrong one"}
    )
    assert refused.status_code == 401
    response = await client.get("/api/health/metrics", headers=admin)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    families = _families(response.text)
    requests = families["clinvault_http_requests"]
    assert any(
        name == "clinvault_http_requests_total"
        and labels == {"route": "health.live", "method": "GET", "status": "200"}
        and value >= 1
        for name, labels, value in requests
    )
    latency = families["clinvault_http_request_duration_seconds"]
    assert any(
        name == "clinvault_http_request_duration_seconds_count" and labels["route"] == "health.live"
        for name, labels, _ in latency
    )
    assert families["clinvault_login_failures"][0][2] >= 1
    assert "clinvault_db_pool_connections_in_use" in families
    assert "clinvault_db_pool_size" in families


async def test_other_roles_and_anonymous_are_refused(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    _, doctor = await member(container, org, Role.DOCTOR)
    problem(await client.get("/api/health/metrics", headers=doctor), 403, "permission_denied")
    assert (await client.get("/api/health/metrics")).status_code == 401


async def test_the_scrape_token_reads_metrics(
    client: httpx.AsyncClient, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(container.settings, "metrics_scrape_token", SecretStr("scrape-secret-1"))
    good = await client.get(
        "/api/health/metrics", headers={"Authorization": "Bearer scrape-secret-1"}
    )
    assert good.status_code == 200
    assert "clinvault_http_requests" in _families(good.text)
    bad = await client.get("/api/health/metrics", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401


def _value(text: str, sample: str, labels: dict[str, str] | None = None) -> float:
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == sample and (labels is None or found.labels == labels):
                return float(found.value)
    raise AssertionError(f"{sample} {labels} not in the exposition")


async def test_the_audit_chain_lag_and_workflow_backlog_are_exposed(
    client: httpx.AsyncClient, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(container.settings, "metrics_scrape_token", SecretStr("scrape-secret-2"))
    scrape = {"Authorization": "Bearer scrape-secret-2"}
    chainer = client._transport.app.state.audit_chainer  # type: ignore[attr-defined]
    await chainer.run_once()
    first = await client.get("/api/health/metrics", headers=scrape)
    assert _value(first.text, "clinvault_audit_unchained_events") == 0
    for _ in range(3):
        assert (await client.get("/api/health/live")).status_code == 200
    second = await client.get("/api/health/metrics", headers=scrape)
    # The first scrape's own event and the three reads wait for the chainer.
    assert _value(second.text, "clinvault_audit_unchained_events") == 4
    await chainer.run_once()
    third = await client.get("/api/health/metrics", headers=scrape)
    assert _value(third.text, "clinvault_audit_unchained_events") == 0
    assert _value(third.text, "clinvault_workflows", {"status": "ENQUEUED"}) >= 0


async def test_a_review_waiting_for_its_reviewer_counts_as_a_pending_workflow(
    client: httpx.AsyncClient, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(container.settings, "metrics_scrape_token", SecretStr("scrape-secret-3"))
    org = await create_org(container)
    await signed_in(client, container, org, roles=[Role.CREDENTIALING_REVIEWER])
    _, headers = await practitioner(client, container, org)
    await submitted(
        client, headers, files=[pdf_file("a.pdf", 1)], entries=[metadata("medical_license")]
    )
    pending = await DBOS.list_workflows_async(status="PENDING", load_input=False)
    assert pending, "the review waits for its reviewer"
    scraped = await client.get(
        "/api/health/metrics", headers={"Authorization": "Bearer scrape-secret-3"}
    )
    assert _value(scraped.text, "clinvault_workflows", {"status": "PENDING"}) >= 1
