"""Every section of the matrix, in the order the reference publishes them.

The cases of each feature live in a module of their own (records, accounts,
credentials, ingest, prescriptions, care plans, health); the shapes they share in `shapes`.
"""

from __future__ import annotations

from clinvault.access_matrix.accounts import AUDIT, NOTIFICATIONS, USERS
from clinvault.access_matrix.careplans import CAREPLANS
from clinvault.access_matrix.clients import with_client
from clinvault.access_matrix.credentials import CREDENTIALS
from clinvault.access_matrix.health import HEALTH
from clinvault.access_matrix.ingest import INGEST
from clinvault.access_matrix.model import Case
from clinvault.access_matrix.prescriptions import PHARMACY, PRESCRIPTIONS
from clinvault.access_matrix.records import APPOINTMENTS, PATIENTS, RECORDS
from clinvault.access_matrix.recovery import ACCOUNTS

SECTIONS: dict[str, list[Case]] = {
    "Patients": PATIENTS,
    "Medical records": RECORDS,
    "Appointments": APPOINTMENTS,
    "Users": USERS,
    "Password reset and invitations": ACCOUNTS,
    "Audit views": AUDIT,
    "Credentials": CREDENTIALS,
    "Notifications": NOTIFICATIONS,
    "CSV ingest": INGEST,
    "Prescriptions": PRESCRIPTIONS,
    "Pharmacies": PHARMACY,
    "Care plans": CAREPLANS,
    "Health": HEALTH,
}

SECTIONS = {title: with_client(section) for title, section in SECTIONS.items()}
"""Every case also says what the API client gets (rule 10, `clients`)."""

CASES: tuple[Case, ...] = tuple(case for section in SECTIONS.values() for case in section)

COVERED_PREFIXES = (
    "/api/patients",
    "/api/records",
    "/api/appointments",
    "/api/users",
    "/api/audit",
    "/api/credentials",
    "/api/notifications",
    "/api/ingest",
    "/api/prescriptions",
    "/api/pharmacies",
    "/api/pharmacy",
    "/api/care-plans",
    "/api/health",
    "/api/auth/password-reset",
    "/api/invitations",
)
"""Every API route under these prefixes must appear in CASES (checked by the test)."""


def routes() -> dict[tuple[str, str], str]:
    """(method, path) -> audit action name, once per route."""
    return {(case.method, case.path): case.action for case in CASES}
