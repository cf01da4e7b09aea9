"""What each API-client scope reaches, as data: the route actions (audit names) it admits.

An API client is denied by default: a route answers it only when the route's
action is listed under one of the scopes its token holds; every other route
answers 403 before doing anything. A new scope is one member of `Scope` plus
its entry in `SCOPE_ACTIONS` and `SCOPE_MEANING`; the service policies of
those routes then say what the scope may do there (ingest/policies.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Scope(StrEnum):
    INGEST = "ingest"


SCOPE_ACTIONS: dict[Scope, frozenset[str]] = {
    Scope.INGEST: frozenset(
        {
            "ingest.upload.create",
            "ingest.upload.complete",
            "ingest.job.list",
            "ingest.job.read",
            "ingest.job.cancel",
            "ingest.job.error_report",
        }
    ),
}

SCOPE_MEANING: dict[Scope, str] = {
    Scope.INGEST: (
        "CSV ingest of its own organization: create and complete uploads, list and read "
        "import jobs, cancel them and download their error reports"
    ),
}

KNOWN_SCOPES: frozenset[str] = frozenset(scope.value for scope in Scope)


def admits(scopes: Iterable[str], action: str | None) -> bool:
    """Whether a route with this action answers a client holding `scopes`."""
    if action is None:
        return False
    return any(
        action in SCOPE_ACTIONS.get(Scope(scope), frozenset())
        for scope in scopes
        if scope in KNOWN_SCOPES
    )
