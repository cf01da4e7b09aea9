"""The expected status of every route of users, audit views and notifications."""

from __future__ import annotations

from clinvault.access_matrix.model import (
    FOREIGN_404,
    ORG_MANAGERS,
    SIGNED_IN,
    Case,
    Cells,
    Scenario,
    cells,
    granted,
)
from clinvault.access_matrix.shapes import list_route


def _user_route(method: str, path: str, action: str, own_cells: Cells | None) -> list[Case]:
    """Organization administrators manage their members; platform administrators everyone."""
    result = [
        # The pharmacist's tenant is not the member's: 404 (rule 2).
        Case(
            method,
            path,
            action,
            Scenario.OTHERS,
            cells(403, **granted(200, ORG_MANAGERS), pharmacist=404),
        ),
        Case(method, path, action, Scenario.FOREIGN, cells(404, admin=200)),
    ]
    if own_cells is not None:
        result.insert(1, Case(method, path, action, Scenario.OWN, own_cells))
    return result


USERS = [
    list_route("/api/users/", "users.list", ORG_MANAGERS),
    Case(
        "GET",
        "/api/users/",
        "users.list",
        Scenario.FOREIGN,
        cells(403, admin=200, org_admin=404),
        "organization_id",
    ),
    list_route("/api/users/roles", "users.roles", SIGNED_IN),
    Case(
        "POST",
        "/api/users/",
        "users.create",
        Scenario.TENANT,
        cells(403, **granted(201, ORG_MANAGERS)),
    ),
    *_user_route("GET", "/api/users/{user_id}", "users.read", cells(200, anonymous=None)),
    *_user_route(
        "PUT",
        "/api/users/{user_id}",
        "users.change",
        cells(403, anonymous=None, **granted(200, ORG_MANAGERS)),
    ),
    *_user_route(
        "PATCH",
        "/api/users/{user_id}",
        "users.update",
        cells(403, anonymous=None, **granted(200, ORG_MANAGERS)),
    ),
    *_user_route(
        "POST",
        "/api/users/{user_id}/deactivate",
        "users.deactivate",
        cells(403, anonymous=None, **granted(409, ORG_MANAGERS)),
    ),
    *_user_route("POST", "/api/users/{user_id}/activate", "users.activate", None),
]


def _audit_route(path: str, action: str) -> list[Case]:
    return [
        list_route(path, action, ORG_MANAGERS),
        Case(
            "GET",
            path,
            action,
            Scenario.FOREIGN,
            cells(403, admin=200, org_admin=404),
            "organization_id",
        ),
    ]


AUDIT = [
    *_audit_route("/api/audit/logs", "audit.logs.list"),
    *_audit_route("/api/audit/summary", "audit.summary"),
    *_audit_route("/api/audit/suspicious", "audit.suspicious"),
]


NOTIFICATIONS = [
    list_route("/api/notifications", "notifications.list", SIGNED_IN),
    Case(
        "POST",
        "/api/notifications/read-all",
        "notifications.read_all",
        Scenario.TENANT,
        cells(200),
    ),
    Case(
        "POST",
        "/api/notifications/{notification_id}/read",
        "notifications.read",
        Scenario.OTHERS,
        cells(404),
    ),
    Case(
        "POST",
        "/api/notifications/{notification_id}/read",
        "notifications.read",
        Scenario.OWN,
        cells(200, anonymous=None),
    ),
    Case(
        "POST",
        "/api/notifications/{notification_id}/read",
        "notifications.read",
        Scenario.FOREIGN,
        FOREIGN_404,
    ),
]
