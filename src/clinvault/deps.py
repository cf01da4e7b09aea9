"""FastAPI dependencies: the container, the request's unit of work, the principal."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.bootstrap import Container
from clinvault.db import has_written, release_connection
from clinvault.errors import AuthenticationRequired
from clinvault.identity.authn import authenticate_bearer
from clinvault.identity.principal import Principal


async def get_container(request: Request) -> Container:
    # async: FastAPI runs a plain `def` dependency in its thread pool, a thread hop on
    # every request for an attribute read.
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


def _route_status(request: Request) -> int:
    route = request.scope.get("route")
    status = getattr(route, "status_code", None)
    return int(status) if status else 200


async def get_session(request: Request, container: ContainerDep) -> AsyncIterator[AsyncSession]:
    """One transaction per request, committed before the response is sent.

    A request that wrote has its audit event written inside the same
    transaction, so a write and its audit record commit or roll back together;
    a read's event goes through the group commit (audit/group_commit.py). Either
    way the event is durable before the response is sent.
    """
    ctx = context.current()

    async def record_audit(session: AsyncSession) -> None:
        if ctx is None:
            return
        route = request.scope.get("route")
        ctx.action = ctx.action or getattr(route, "name", None)
        status = ctx.status_hint or _route_status(request)
        if ctx.audit_recorded:
            return
        if has_written(session):
            await container.audit.record(session, ctx, status)
            return
        # Nothing of the request's own to commit: its event joins the group commit,
        # durable before the response all the same. The read-only transaction ends first,
        # so that waiting requests hold no pooled connection the flusher needs.
        await release_connection(session)
        await container.audit_log.write(container.audit.values(ctx, status))
        ctx.audit_recorded = True

    async with container.db.unit_of_work(record_audit) as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationRequired(
            "Send 'Authorization: Bearer <access token>'; obtain one from POST /api/auth/login."
        )
    return token.strip()


async def get_principal(
    request: Request, session: SessionDep, container: ContainerDep
) -> Principal:
    route = request.scope.get("route")
    principal = await authenticate_bearer(
        container, session, bearer_token(request), action=getattr(route, "name", None)
    )
    context.bind_principal(principal)
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]
