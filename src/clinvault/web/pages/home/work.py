"""Work queues on the home page: credentials to review or expiring, the organization's
members, the pharmacy's new prescriptions, a patient's new prescriptions, and unread
notifications. Each builder returns None for a role that has no such work."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.bootstrap import Container
from clinvault.credentials import policies as credential_policies
from clinvault.credentials.categories import label_of
from clinvault.credentials.review import ReviewService
from clinvault.credentials.service import CredentialService
from clinvault.errors.prescriptions import PharmacyQueueNotFound
from clinvault.identity import policies as identity_policies
from clinvault.identity.accounts.invitations import PendingInvitations
from clinvault.identity.principal import Principal, Role
from clinvault.identity.users_service import UserService
from clinvault.notifications.service import NotificationService
from clinvault.prescriptions import policies as rx_policies
from clinvault.prescriptions.pharmacy import PharmacyService
from clinvault.prescriptions.service import PrescriptionService
from clinvault.timeutil import utcnow
from clinvault.web.pages.home.panels import ROWS, Panel, Row, long_date, plural

# Credentials expiring within this many days are listed.
EXPIRY_DAYS = 30
# A patient's prescriptions issued within this many days count as new.
NEW_PRESCRIPTION_DAYS = 14


async def _names(
    session: AsyncSession, container: Container, principal: Principal
) -> dict[uuid.UUID, str]:
    if not identity_policies.can_list_practitioners(principal):
        return {}
    return await UserService(session, container).practitioners(principal)


async def review_queue(
    session: AsyncSession, container: Container, principal: Principal
) -> Panel | None:
    """A reviewer: documents waiting for review, oldest first."""
    if not credential_policies.can_review_queue(principal):
        return None
    page = await ReviewService(session, container).queue(
        principal, status=None, category=None, practitioner_id=None, limit=ROWS, offset=0
    )
    names = await _names(session, container, principal)
    rows = tuple(
        Row(
            text=f"{label_of(doc.category)} · "
            + names.get(doc.practitioner_id, doc.submission_reference),
            detail=f"submitted {long_date(doc.submitted_at.date())}",
            route="portal.credentials.document",
            params={"document_id": str(doc.id)},
        )
        for doc in page.items
    )
    return Panel(
        key="review",
        title="Waiting for review",
        summary=f"{plural(page.total, 'document')} waiting for review.",
        rows=rows,
        route="portal.credentials.review_queue",
        route_label="Open the review queue",
        attention=page.total > 0,
    )


async def expiring(
    session: AsyncSession, container: Container, principal: Principal
) -> Panel | None:
    """Credentials expiring soon: the organization's for reviewers and administrators,
    a practitioner's own for doctors and nurses."""
    organization = credential_policies.sees_organization_expiries(principal)
    if not organization and not principal.has(Role.DOCTOR, Role.NURSE):
        return None
    found = await CredentialService(session, container).expiring(principal, EXPIRY_DAYS)
    found.sort(key=lambda doc: doc.days_to_expiry if doc.days_to_expiry is not None else 0)
    names = await _names(session, container, principal) if organization else {}

    def when(days: int | None) -> str:
        if days is None:
            return ""
        if days < 0:
            return f"expired {plural(-days, 'day')} ago"
        return "expires today" if days == 0 else f"expires in {plural(days, 'day')}"

    rows = tuple(
        Row(
            text=label_of(doc.category)
            + (f" · {names.get(doc.practitioner_id, 'practitioner')}" if organization else ""),
            detail=when(doc.days_to_expiry),
            route="portal.credentials.document",
            params={"document_id": str(doc.id)},
        )
        for doc in found[:ROWS]
    )
    return Panel(
        key="expiring",
        title="Credentials expiring soon" if organization else "Your credentials expiring soon",
        summary=f"{plural(len(found), 'credential')} expiring within {EXPIRY_DAYS} days.",
        rows=rows,
        route="portal.credentials.expiring" if organization else "portal.credentials.mine",
        route_label="Open expiring credentials" if organization else "Open my credentials",
        attention=bool(found),
    )


async def members(
    session: AsyncSession, container: Container, principal: Principal
) -> Panel | None:
    """An organization administrator: active and deactivated members."""
    if not principal.has(Role.ORG_ADMIN) or principal.organization_id is None:
        return None
    if not identity_policies.can_list_users(principal, principal.organization_id):
        return None
    users = UserService(session, container)
    active = await users.list_users(principal, is_active=True, limit=1)
    inactive = await users.list_users(principal, is_active=False, limit=1)
    invited = await PendingInvitations(session, container).list_pending(principal)
    rows = tuple(
        Row(
            text=item.email, detail=f"invited, link valid until {long_date(item.expires_at.date())}"
        )
        for item in invited[:ROWS]
    )
    return Panel(
        key="users",
        title="Users and invitations",
        summary=f"{plural(active.total, 'active member')}, {inactive.total} deactivated, "
        f"{plural(len(invited), 'pending invitation')}.",
        rows=rows,
        route="portal.invitations.pending" if invited else "portal.user.list",
        route_label="Open pending invitations" if invited else "Manage users",
    )


async def pharmacy_queue(
    session: AsyncSession, container: Container, principal: Principal
) -> Panel | None:
    """A pharmacist: new prescriptions waiting for the pharmacy."""
    if not principal.has(Role.PHARMACIST):
        return None
    try:
        queue = await PharmacyService(session, container).queue(principal, "new")
    except PharmacyQueueNotFound:
        return None
    rows = tuple(
        Row(
            text=item.medication,
            detail=f"{item.number} · {item.patient.last_name}, {item.patient.first_name}",
            route="portal.rx.read",
            params={"prescription_id": str(item.id)},
        )
        for item in queue.items[:ROWS]
    )
    return Panel(
        key="pharmacy",
        title="Prescriptions waiting",
        summary=f"{plural(len(queue.items), 'new prescription')} waiting.",
        rows=rows,
        route="portal.pharmacy.queue",
        route_label="Open the pharmacy queue",
        attention=bool(queue.items),
    )


async def new_prescriptions(
    session: AsyncSession, container: Container, principal: Principal
) -> Panel | None:
    """A patient: prescriptions issued in the last two weeks."""
    if not rx_policies.acts_as_patient(principal):
        return None
    found = await PrescriptionService(session, container).list(principal, limit=20)
    since = utcnow() - timedelta(days=NEW_PRESCRIPTION_DAYS)
    recent = [item for item in found.items if item.created_at >= since]
    rows = tuple(
        Row(
            text=item.medication,
            detail=f"{item.number} · {item.pharmacy_name}",
            route="portal.rx.read",
            params={"prescription_id": str(item.id)},
        )
        for item in recent[:ROWS]
    )
    return Panel(
        key="prescriptions",
        title="New prescriptions",
        summary=f"{plural(len(recent), 'new prescription')} in the last "
        f"{NEW_PRESCRIPTION_DAYS} days.",
        rows=rows,
        route="portal.rx.mine",
        route_label="Open my prescriptions",
    )


async def notifications(session: AsyncSession, principal: Principal) -> Panel:
    """Everyone: unread notifications, newest first."""
    found = await NotificationService(session).list_own(
        principal, unread_only=True, limit=3, offset=0
    )
    rows = tuple(
        Row(text=item.title, detail=long_date(item.created_at.date())) for item in found.items
    )
    return Panel(
        key="notifications",
        title="Notifications",
        summary=f"{plural(found.unread, 'unread notification')}.",
        rows=rows,
        route="portal.notifications",
        route_label="Open notifications",
        attention=found.unread > 0,
    )
