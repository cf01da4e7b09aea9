"""What a reviewer sees beside a document: whose it is, how complete, how late.

Pure functions over rows already loaded; the service decides who may see them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from clinvault.credentials.verify_links import CheckLink, npi_registry_link
from clinvault.credentials.views import add_business_days
from clinvault.models.credentials import CredentialDocument, PractitionerProfile
from clinvault.models.identity import User

EXPIRING_SOON_DAYS = 30
LICENCE_CATEGORY = "medical_license"


@dataclass(frozen=True, slots=True)
class PractitionerCard:
    id: uuid.UUID
    name: str
    npi: str | None
    specialty: str
    npi_link: CheckLink | None


def practitioner_card(user: User, profile: PractitionerProfile | None) -> PractitionerCard:
    npi = profile.npi if profile is not None else None
    return PractitionerCard(
        id=user.id,
        name=user.display_name or user.email,
        npi=npi,
        specialty=(profile.specialty if profile is not None else "") or "",
        npi_link=npi_registry_link(npi),
    )


def unknown_practitioner(practitioner_id: uuid.UUID) -> PractitionerCard:
    return PractitionerCard(practitioner_id, "Former member", None, "", None)


@dataclass(frozen=True, slots=True)
class Completeness:
    total: int
    verified: int
    expiring_soon: int
    rejected: int
    expired: int

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.verified == self.total

    @property
    def text(self) -> str:
        parts = [f"{self.verified} of {self.total} verified"]
        if self.expiring_soon:
            parts.append(f"{self.expiring_soon} expiring in {EXPIRING_SOON_DAYS} days")
        if self.rejected:
            parts.append(f"{self.rejected} rejected")
        if self.expired:
            parts.append(f"{self.expired} expired")
        return ", ".join(parts)


def completeness(documents: Iterable[CredentialDocument], today: date) -> Completeness:
    """Counts over a practitioner's current documents."""
    current = [d for d in documents if d.is_current]
    verified = [d for d in current if d.status == "verified"]
    soon = [
        d
        for d in verified
        if d.expires_on is not None and 0 <= (d.expires_on - today).days <= EXPIRING_SOON_DAYS
    ]
    return Completeness(
        total=len(current),
        verified=len(verified),
        expiring_soon=len(soon),
        rejected=sum(1 for d in current if d.status == "rejected"),
        expired=sum(1 for d in current if d.status == "expired"),
    )


@dataclass(frozen=True, slots=True)
class SlaState:
    elapsed: int
    allowed: int
    due_on: date
    overdue: bool

    @property
    def text(self) -> str:
        if self.overdue:
            late = self.elapsed - self.allowed
            return f"Overdue by {late} business day{'s' if late != 1 else ''}"
        return f"Day {self.elapsed} of {self.allowed}"


def business_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (0 when end <= start)."""
    count, current = 0, start
    while current < end:
        current = date.fromordinal(current.toordinal() + 1)
        if current.weekday() < 5:
            count += 1
    return count


def sla_state(submitted_at: datetime, today: date, allowed: int) -> SlaState:
    submitted_on = submitted_at.date()
    due_on = add_business_days(submitted_on, allowed)
    return SlaState(
        elapsed=business_days_between(submitted_on, today),
        allowed=allowed,
        due_on=due_on,
        overdue=today > due_on,
    )


def licence_flag(documents: Iterable[CredentialDocument], today: date) -> str | None:
    """'Licence rejected' or 'Licence expired' when the current licence is, else None."""
    for document in documents:
        if document.category != LICENCE_CATEGORY or not document.is_current:
            continue
        if document.status == "rejected":
            return "Licence rejected"
        if document.status == "expired" or (
            document.expires_on is not None and document.expires_on < today
        ):
            return "Licence expired"
    return None
