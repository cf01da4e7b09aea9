"""A write and its audit event commit together; a failed write still leaves one event."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from sqlalchemy import func, select
from tests.integration.audit.audit_support import all_events

from clinvault.bootstrap import Container
from clinvault.context import RequestContext
from clinvault.deps import SessionDep
from clinvault.errors import Conflict
from clinvault.middleware import RequestPipeline
from clinvault.models import Organization
from clinvault.problems import install_problem_handlers


def organization(slug: str) -> Organization:
    return Organization(name=slug, slug=slug, kind="provider")


def write_app(container: Container) -> FastAPI:
    """The production pipeline and unit of work around two small write routes."""
    router = APIRouter()

    @router.post("/api/probe/orgs", name="probe.create", status_code=201)
    async def create(session: SessionDep) -> dict[str, str]:
        session.add(organization("probe-ok"))
        return {"status": "created"}

    @router.post("/api/probe/orgs/fail", name="probe.create_then_fail", status_code=201)
    async def create_then_fail(session: SessionDep) -> dict[str, str]:
        session.add(organization("probe-failed"))
        await session.flush()
        raise Conflict("The probe always conflicts: nothing to fix.")

    application = FastAPI()
    application.state.container = container
    install_problem_handlers(application)
    application.include_router(router)
    application.add_middleware(RequestPipeline, container=container)
    return application


@pytest.fixture
async def probe(app: FastAPI, container: Container) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=write_app(container), client=("203.0.113.7", 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def organizations(container: Container) -> int:
    async with container.db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Organization)) or 0)


async def test_a_write_records_its_event_in_its_own_transaction(
    probe: httpx.AsyncClient, container: Container
) -> None:
    response = await probe.post("/api/probe/orgs")
    assert response.status_code == 201
    assert await organizations(container) == 1
    [event] = await all_events(container)
    assert (event.action, event.status_code, event.outcome) == ("probe.create", 201, "success")
    assert event.request_id == response.headers["x-request-id"]


async def test_a_failed_write_leaves_only_its_failure_event(
    probe: httpx.AsyncClient, container: Container
) -> None:
    response = await probe.post("/api/probe/orgs/fail")
    assert response.status_code == 409
    assert await organizations(container) == 0
    [event] = await all_events(container)
    assert event.action == "probe.create_then_fail"
    assert (event.status_code, event.outcome) == (409, "failure")
    assert event.request_id == response.headers["x-request-id"]


async def test_a_rolled_back_event_does_not_count_as_recorded(
    app: FastAPI, container: Container
) -> None:
    ctx = RequestContext(request_id="rollback-test-01", method="POST", path="/x", action="x")

    async def record_then_abort() -> None:
        async with container.db.unit_of_work() as session:
            await container.audit.record(session, ctx, 201)
            raise RuntimeError("abort")

    with pytest.raises(RuntimeError, match="abort"):
        await record_then_abort()
    assert not ctx.audit_recorded
    assert await all_events(container) == []
    async with container.db.unit_of_work() as session:
        await container.audit.record(session, ctx, 500)
        await container.audit.record(session, ctx, 500)
    assert ctx.audit_recorded
    [event] = await all_events(container)
    assert event.status_code == 500
