"""Who may do what with CSV imports. Deny by default; a foreign object is 404 before this.

An API client holding the `ingest` scope imports and reads jobs like a clerk.
"""

from __future__ import annotations

from clinvault.identity.clients.scopes import Scope
from clinvault.identity.principal import Principal, Role

IMPORTERS = (Role.ORG_ADMIN, Role.CLERK)
JOB_READERS = (Role.ORG_ADMIN, Role.CLERK, Role.DOCTOR, Role.NURSE)


def can_import(principal: Principal) -> bool:
    """Create uploads, complete them, cancel jobs, download error reports (they hold PHI)."""
    return principal.has(*IMPORTERS) or principal.holds(Scope.INGEST)


def can_read_jobs(principal: Principal) -> bool:
    """Clinicians open the job a record came from."""
    return principal.has(*JOB_READERS) or principal.holds(Scope.INGEST)


def can_change_settings(principal: Principal) -> bool:
    return principal.has(Role.ORG_ADMIN)
