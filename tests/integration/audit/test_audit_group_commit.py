"""Reads and denials share commits, and each is answered only once its event is durable."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from tests.factories import create_org, create_user
from tests.integration.audit.audit_support import all_events
from tests.integration.records.conftest import session_for

from clinvault.audit import group_commit
from clinvault.audit.group_commit import AuditGroupCommit
from clinvault.bootstrap import Container
from clinvault.context import RequestContext
from clinvault.identity.principal import Role

READS = 40


async def test_concurrent_reads_each_leave_one_event_in_fewer_commits(
    client: httpx.AsyncClient, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = await create_org(container)
    user = await create_user(container, org, roles=[Role.NURSE])
    headers = await session_for(container, user)
    batches: list[int] = []
    insert_events = group_commit.insert_events

    async def counted(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
        batches.append(len(rows))
        await insert_events(session, rows)

    monkeypatch.setattr(group_commit, "insert_events", counted)
    before = len(await all_events(container))
    responses = await asyncio.gather(
        *(client.get("/api/auth/profile", headers=headers) for _ in range(READS // 2)),
        *(client.get("/api/auth/profile") for _ in range(READS // 2)),
    )
    assert sorted(r.status_code for r in responses) == [200] * (READS // 2) + [401] * (READS // 2)
    events = await all_events(container)
    assert len(events) == before + READS
    request_ids = {r.headers["x-request-id"] for r in responses}
    assert request_ids <= {event.request_id for event in events}
    assert sum(batches) == READS
    assert len(batches) < READS, "concurrent requests share a commit"


async def test_a_write_keeps_its_event_in_its_own_transaction(
    client: httpx.AsyncClient, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = await create_org(container)
    user = await create_user(container, org, roles=[Role.NURSE])
    headers = await session_for(container, user)
    grouped: list[int] = []
    insert_events = group_commit.insert_events

    async def counted(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
        grouped.append(len(rows))
        await insert_events(session, rows)

    monkeypatch.setattr(group_commit, "insert_events", counted)
    response = await client.put("/api/auth/profile", headers=headers, json={"first_name": "Avery"})
    assert response.status_code == 200, response.text
    assert grouped == []
    events = await all_events(container)
    assert [e.action for e in events if e.request_id == response.headers["x-request-id"]] == [
        "auth.profile.update"
    ]


async def test_an_event_the_database_refuses_fails_only_its_own_request(
    container: Container,
) -> None:
    writer = AuditGroupCommit(container.db)
    ctx_values = [container.audit.values(_context(f"grouped-{n:04d}"), 200) for n in range(5)]
    broken = dict(ctx_values[2])
    broken["id"] = ctx_values[1]["id"]  # a duplicate primary key
    results = await asyncio.gather(
        *(writer.write(values) for values in (*ctx_values[:2], broken, *ctx_values[3:])),
        return_exceptions=True,
    )
    assert [isinstance(result, Exception) for result in results] == [
        False,
        False,
        True,
        False,
        False,
    ]
    stored = {event.request_id for event in await all_events(container)}
    assert {"grouped-0000", "grouped-0001", "grouped-0003", "grouped-0004"} <= stored


def _context(request_id: str) -> RequestContext:
    return RequestContext(
        request_id=request_id,
        method="GET",
        path="/api/auth/profile",
        client_ip="203.0.113.9",
        user_agent="group-commit-test",
    )
