"""Navigation by role: one table, extended as features add pages.

`ROLE_ENTRIES` maps each role to the pages it may open; `LEADING` and
`TRAILING` are shown to everyone signed in. A feature that adds a page adds
its entry to the roles allowed to use it; an entry appears once even when
several of the user's roles grant it. Only pages that exist are listed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from clinvault.identity.principal import Role


@dataclass(frozen=True, slots=True)
class NavEntry:
    label: str
    route: str
    # Other route names under this entry, so it stays highlighted on sub-pages.
    also: tuple[str, ...] = ()

    def matches(self, route_name: str | None) -> bool:
        return route_name is not None and (route_name == self.route or route_name in self.also)


HOME = NavEntry("Home", "portal.home")
PROFILE = NavEntry(
    "Profile",
    "portal.profile",
    also=(
        "portal.mfa.enroll",
        "portal.mfa.verify",
        "portal.profile.time_zone",
        "portal.organization.time_zone",
    ),
)
INVITE_USER = NavEntry("Invite user", "portal.invite", also=("portal.invite.submit",))
MY_CREDENTIALS = NavEntry(
    "My credentials",
    "portal.credentials.mine",
    also=("portal.credentials.submission", "portal.credentials.replace"),
)
UPLOAD_DOCUMENTS = NavEntry(
    "Upload documents",
    "portal.credentials.upload",
    also=("portal.credentials.upload.submit", "portal.credentials.profile"),
)
REVIEW_QUEUE = NavEntry(
    "Review queue",
    "portal.credentials.review_queue",
    also=(
        "portal.credentials.document",
        "portal.credentials.decide",
        "portal.credentials.start_review",
    ),
)
EXPIRING_CREDENTIALS = NavEntry("Expiring credentials", "portal.credentials.expiring")
PATIENTS = NavEntry(
    "Patients",
    "portal.patient.list",
    also=(
        "portal.patient.new",
        "portal.patient.create",
        "portal.patient.read",
        "portal.record.new",
        "portal.record.create",
        "portal.appointment.new",
        "portal.appointment.book",
    ),
)
APPOINTMENTS = NavEntry("Appointments", "portal.appointment.list")
USERS = NavEntry(
    "Users",
    "portal.user.list",
    also=("portal.user.new", "portal.user.create", "portal.user.read", "portal.user.roles"),
)
AUDIT_LOG = NavEntry("Audit log", "portal.audit.logs")
MY_CHART = NavEntry("My chart", "portal.my_chart.read")
PRESCRIPTIONS = NavEntry(
    "Prescriptions",
    "portal.rx.list",
    also=(
        "portal.rx.new",
        "portal.rx.create",
        "portal.rx.read",
        "portal.rx.sign",
        "portal.rx.move",
        "portal.rx.pharmacy",
        "portal.rx.pharmacy.change",
    ),
)
MY_PRESCRIPTIONS = NavEntry(
    "My prescriptions",
    "portal.rx.mine",
    also=("portal.rx.read", "portal.rx.pharmacy", "portal.rx.pharmacy.change"),
)
PHARMACY_QUEUE = NavEntry(
    "Pharmacy queue",
    "portal.pharmacy.queue",
    also=(
        "portal.rx.read",
        "portal.rx.claim",
        "portal.rx.dispense",
        "portal.rx.decline",
        "portal.rx.cancel_decision",
    ),
)
VERIFY_PRESCRIPTION = NavEntry(
    "Verify a prescription", "portal.pharmacy.verify_form", also=("portal.pharmacy.verify",)
)
CARE_PLANS = NavEntry(
    "Care plans",
    "portal.cp.list",
    also=(
        "portal.cp.new",
        "portal.cp.create",
        "portal.cp.read",
        "portal.cp.edit",
        "portal.cp.update",
        "portal.cp.diff",
        "portal.cp.comment",
        "portal.cp.resolve",
        "portal.cp.watch",
        "portal.cp.restore",
        "portal.cp.share",
        "portal.cp.share.revoke",
        "portal.cp.share.expiry",
        "portal.cp.share.accept",
    ),
)
MY_CARE_PLANS = NavEntry("My care plans", "portal.cp.mine", also=("portal.cp.read",))
IMPORT_RECORDS = NavEntry(
    "Import records",
    "portal.ingest.upload",
    also=("portal.ingest.submit", "portal.ingest.job", "portal.ingest.cancel"),
)

LEADING: tuple[NavEntry, ...] = (HOME,)
TRAILING: tuple[NavEntry, ...] = (PROFILE,)

ROLE_ENTRIES: Mapping[Role, tuple[NavEntry, ...]] = {
    Role.ADMIN: (),
    Role.ORG_ADMIN: (
        PATIENTS,
        APPOINTMENTS,
        PRESCRIPTIONS,
        CARE_PLANS,
        IMPORT_RECORDS,
        USERS,
        INVITE_USER,
        AUDIT_LOG,
        EXPIRING_CREDENTIALS,
    ),
    Role.DOCTOR: (
        PATIENTS,
        APPOINTMENTS,
        PRESCRIPTIONS,
        CARE_PLANS,
        MY_CREDENTIALS,
        UPLOAD_DOCUMENTS,
    ),
    Role.NURSE: (
        PATIENTS,
        APPOINTMENTS,
        PRESCRIPTIONS,
        CARE_PLANS,
        MY_CREDENTIALS,
        UPLOAD_DOCUMENTS,
    ),
    Role.CLERK: (PATIENTS, APPOINTMENTS, IMPORT_RECORDS),
    Role.CREDENTIALING_REVIEWER: (REVIEW_QUEUE, EXPIRING_CREDENTIALS),
    Role.PHARMACIST: (PHARMACY_QUEUE, VERIFY_PRESCRIPTION),
    Role.PATIENT: (MY_CHART, MY_PRESCRIPTIONS, MY_CARE_PLANS),
}


def entries_for(roles: Iterable[Role]) -> list[NavEntry]:
    """The navigation of a user holding `roles`, in a stable order."""
    held = set(roles)
    entries: list[NavEntry] = list(LEADING)
    for role in Role:  # declaration order keeps the menu stable across users
        if role in held:
            entries.extend(e for e in ROLE_ENTRIES.get(role, ()) if e not in entries)
    entries.extend(e for e in TRAILING if e not in entries)
    return entries


ROLE_LABELS: Mapping[Role, str] = {
    Role.ADMIN: "Platform administrator",
    Role.ORG_ADMIN: "Organization administrator",
    Role.DOCTOR: "Doctor",
    Role.NURSE: "Nurse",
    Role.CLERK: "Clerk",
    Role.CREDENTIALING_REVIEWER: "Credentialing reviewer",
    Role.PHARMACIST: "Pharmacist",
    Role.PATIENT: "Patient",
}


def role_label(role: str) -> str:
    try:
        return ROLE_LABELS[Role(role)]
    except ValueError:
        return role
