"""The expected status of every CSV ingest route."""

from __future__ import annotations

from collections.abc import Iterable

from clinvault.access_matrix.model import (
    FOREIGN_404,
    FRONT_DESK,
    STAFF,
    Actor,
    Case,
    Scenario,
    cells,
    granted,
    outsiders,
)
from clinvault.access_matrix.shapes import list_route

IMPORTERS = FRONT_DESK
JOB_READERS = (*STAFF,)


def _ingest_object_route(
    method: str, path: str, action: str, ok: int, allowed: Iterable[Actor]
) -> list[Case]:
    return [
        # The platform administrator's and the pharmacist's tenants are not the job's: 404
        # (rule 2).
        Case(
            method,
            path,
            action,
            Scenario.OTHERS,
            cells(403, **granted(ok, allowed), **outsiders(404)),
        ),
        Case(method, path, action, Scenario.FOREIGN, FOREIGN_404),
    ]


INGEST = [
    Case(
        "POST",
        "/api/ingest/uploads",
        "ingest.upload.create",
        Scenario.TENANT,
        cells(403, **granted(201, IMPORTERS)),
    ),
    # The signed URL is the credential (rule 6): any holder may use it once, signed in or not.
    Case(
        "PUT",
        "/api/ingest/uploads/{upload_id}/content",
        "ingest.upload.content",
        Scenario.TENANT,
        cells(202, anonymous=202),
        "signed URL",
    ),
    *_ingest_object_route(
        "POST",
        "/api/ingest/uploads/{upload_id}/complete",
        "ingest.upload.complete",
        200,
        IMPORTERS,
    ),
    list_route("/api/ingest/jobs", "ingest.job.list", JOB_READERS),
    *_ingest_object_route("GET", "/api/ingest/jobs/{job_id}", "ingest.job.read", 200, JOB_READERS),
    # The world's jobs have finished: cancelling one is a conflict for those who may cancel.
    *_ingest_object_route(
        "POST", "/api/ingest/jobs/{job_id}/cancel", "ingest.job.cancel", 409, IMPORTERS
    ),
    *_ingest_object_route(
        "GET", "/api/ingest/jobs/{job_id}/error-report", "ingest.job.error_report", 200, IMPORTERS
    ),
    list_route("/api/ingest/settings", "ingest.settings.read", IMPORTERS),
    Case(
        "PUT",
        "/api/ingest/settings",
        "ingest.settings.update",
        Scenario.TENANT,
        cells(403, org_admin=200),
    ),
]
