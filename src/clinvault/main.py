"""create_app(settings) -> FastAPI: routers, middleware, one error handler."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from clinvault import __version__
from clinvault.api_contract import install_api_contract
from clinvault.audit.chain import AuditChainer
from clinvault.audit.commands import open_checkpointer
from clinvault.audit.routes import router as audit_router
from clinvault.bootstrap import Container, build_container
from clinvault.careplans.attachment_routes import body_limit_overrides as careplan_body_limits
from clinvault.careplans.routes import routers as careplans_routers
from clinvault.config import Settings
from clinvault.credentials.routes import STREAMED_JSON_PATHS as CREDENTIAL_STREAMED_JSON
from clinvault.credentials.routes import body_limit_overrides as credential_body_limits
from clinvault.credentials.routes import router as credentials_router
from clinvault.health.metrics import Metrics, MetricsMiddleware
from clinvault.health.routes import router as health_router
from clinvault.heap import limit_arenas, settle_collector_after_startup
from clinvault.identity.routes import routers as identity_routers
from clinvault.ingest.routes import body_limit_overrides as ingest_body_limits
from clinvault.ingest.routes import router as ingest_router
from clinvault.middleware import RequestPipeline
from clinvault.notifications.routes import router as notifications_router
from clinvault.prescriptions.routes import body_limit_overrides as prescription_body_limits
from clinvault.prescriptions.routes import routers as prescriptions_routers
from clinvault.problems import install_problem_handlers
from clinvault.records.patients.backfill import backfill_at_startup
from clinvault.records.routes import body_limit_overrides as records_body_limits
from clinvault.records.routes import routers as records_routers
from clinvault.web.pages.credentials import body_limit_overrides as portal_credential_limits
from clinvault.web.pages.ingest import body_limit_overrides as portal_import_limits
from clinvault.web.routes import mount_portal
from clinvault.workflows import runtime


def create_served_app() -> FastAPI:
    """The application as `clinvault serve` runs it: a process of its own, whose
    start-up objects the garbage collector can leave alone from then on."""
    return create_app(served=True)


def create_app(
    settings: Settings | None = None, *, container: Container | None = None, served: bool = False
) -> FastAPI:
    limit_arenas()
    container = container or build_container(settings or Settings())
    settings = container.settings
    chainer = AuditChainer(
        container.db,
        container.audit.key,
        open_checkpointer(settings),
        settings.audit_chain_interval_seconds,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await backfill_at_startup(container)
        if settings.workflows_enabled:
            runtime.start(container)
        chainer.start()
        if served:
            settle_collector_after_startup()
        try:
            yield
        finally:
            await chainer.stop()
            if settings.workflows_enabled:
                runtime.stop()
            await container.close()

    app = FastAPI(
        title="clinvault",
        version=__version__,
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.container = container
    app.state.audit_chainer = chainer
    install_problem_handlers(app)
    app.include_router(health_router)
    for router in identity_routers:
        app.include_router(router)
    app.include_router(audit_router)
    app.include_router(credentials_router)
    app.include_router(notifications_router)
    for router in records_routers:
        app.include_router(router)
    for router in prescriptions_routers:
        app.include_router(router)
    for router in careplans_routers:
        app.include_router(router)
    app.include_router(ingest_router)
    mount_portal(app)
    install_api_contract(
        app,
        max_json_bytes=settings.security.max_json_body_bytes,
        streamed_json=CREDENTIAL_STREAMED_JSON,
    )
    app.add_middleware(
        RequestPipeline,
        container=container,
        body_limit_overrides=[
            *credential_body_limits(settings),
            *records_body_limits(settings),
            *prescription_body_limits(settings),
            *careplan_body_limits(settings),
            *ingest_body_limits(settings),
            *portal_credential_limits(settings),
            *portal_import_limits(settings),
        ],
    )
    app.state.metrics = Metrics(container.db.engine)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    return app
