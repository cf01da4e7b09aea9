"""The expected status of the health and operations routes (rule 9)."""

from __future__ import annotations

from clinvault.access_matrix.model import Actor, Case, Scenario, cells

HEALTH_PATH = "/api/health"
PUBLIC = cells(200, anonymous=200)

HEALTH = [
    Case("GET", HEALTH_PATH + "/health", "health.status", Scenario.TENANT, PUBLIC),
    Case("GET", HEALTH_PATH + "/live", "health.live", Scenario.TENANT, PUBLIC),
    Case("GET", HEALTH_PATH + "/ready", "health.ready", Scenario.TENANT, PUBLIC),
    Case("GET", HEALTH_PATH + "/info", "health.info", Scenario.TENANT, PUBLIC),
    # Organization administrators, the platform administrator, or the scrape token.
    Case("GET", HEALTH_PATH + "/metrics", "health.metrics", Scenario.TENANT,
         cells(403, **{Actor.ORG_ADMIN.value: 200, Actor.ADMIN.value: 200})),
]  # fmt: skip
