"""Prometheus metrics with the standard prometheus-client library, one registry per app.

Requests by route and status, their latency, sign-in failures, the database pool's use,
the durable workflows waiting or running, and the audit events not yet chained. The last
two need the database, so the scrape refreshes them (`refresh`) before the exposition.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
SIGN_IN_ROUTES = frozenset({"auth.login", "auth.login_mfa"})
WORKFLOW_STATES = ("ENQUEUED", "PENDING")


class _PoolCollector(Collector):
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        pool = self.engine.pool
        checked_out = getattr(pool, "checkedout", None)
        size = getattr(pool, "size", None)
        used = GaugeMetricFamily(
            "clinvault_db_pool_connections_in_use", "Database connections lent to requests"
        )
        used.add_metric([], float(checked_out()) if callable(checked_out) else 0.0)
        yield used
        capacity = GaugeMetricFamily(
            "clinvault_db_pool_size", "Database connections the pool keeps open"
        )
        capacity.add_metric([], float(size()) if callable(size) else 0.0)
        yield capacity


class Metrics:
    def __init__(self, engine: AsyncEngine) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "clinvault_http_requests",
            "HTTP requests answered, by route and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "clinvault_http_request_duration_seconds",
            "Time to answer an HTTP request, by route",
            ["route", "method"],
            registry=self.registry,
        )
        self.login_failures = Counter(
            "clinvault_login_failures",
            "Refused sign-ins (wrong credentials, locked, throttled)",
            registry=self.registry,
        )
        self.workflows = Gauge(
            "clinvault_workflows",
            "Durable workflows not finished, by status (ENQUEUED waits for a worker)",
            ["status"],
            registry=self.registry,
        )
        self.audit_unchained = Gauge(
            "clinvault_audit_unchained_events",
            "Committed audit events the chainer has not linked yet (the chain's lag)",
            registry=self.registry,
        )
        self.registry.register(_PoolCollector(engine))

    def observe_backlog(self, workflows: dict[str, int], audit_unchained: int) -> None:
        for status in WORKFLOW_STATES:
            self.workflows.labels(status).set(workflows.get(status, 0))
        self.audit_unchained.set(audit_unchained)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Pure ASGI: counts and times every HTTP request under its route's name."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def observe(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, observe)
        finally:
            route = getattr(scope.get("route"), "name", None) or "unmatched"
            method = scope["method"]
            self.metrics.requests.labels(route, method, str(status)).inc()
            self.metrics.latency.labels(route, method).observe(time.perf_counter() - started)
            if route in SIGN_IN_ROUTES and status in (401, 403, 429):
                self.metrics.login_failures.inc()
