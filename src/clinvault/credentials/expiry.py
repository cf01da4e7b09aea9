"""The daily expiry job: reminders before `expires_on`, each recorded once; then `expired`.

`run_expiry_sweep(container, today)` is the whole job, callable with any date
(tests pass a fixed one; the daily DBOS schedule passes its own). It records
the reminders due (a unique row per document and threshold, so each goes out
once), marks documents expired on their day, adds in-app notifications, and
then mails every recorded reminder not mailed yet, so a run cut short is
finished by the next one. Mails carry stable idempotency keys.

A document entering tracking late gets only the nearest reminder (a licence
expiring in 20 days gets the 30-day one, not also the 90- and 60-day ones).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.bootstrap import Container
from clinvault.credentials import mailing
from clinvault.credentials.categories import label_of
from clinvault.credentials.repository import CredentialRepository
from clinvault.identity.principal import Role
from clinvault.models.credentials import CredentialDocument, CredentialReminder
from clinvault.notifications.service import notify
from clinvault.timeutil import utcnow

log = structlog.get_logger(__name__)

EXPIRED_MARK = 0


@dataclass(frozen=True, slots=True)
class ExpirySweep:
    reminded: int
    expired: int
    mailed: int


def due_threshold(days_left: int, thresholds: list[int]) -> int | None:
    """The reminder due `days_left` days before expiry: the smallest threshold >= it."""
    if days_left <= 0:
        return EXPIRED_MARK
    fitting = [days for days in thresholds if days >= days_left]
    return min(fitting) if fitting else None


async def _record_due(container: Container, today: date) -> tuple[int, int]:
    thresholds = sorted(set(container.settings.credentials.reminder_days))
    horizon = today + timedelta(days=max(thresholds, default=0))
    reminded = expired = 0
    async with container.db.unit_of_work() as session:
        repository = CredentialRepository(session)
        for document in await repository.tracked_for_expiry_global(horizon):
            assert document.expires_on is not None
            days_left = (document.expires_on - today).days
            threshold = due_threshold(days_left, thresholds)
            if threshold is None:
                continue
            if threshold == EXPIRED_MARK:
                document.status = "expired"
                document.status_changed_at = utcnow()
                expired += 1
            if await repository.reminder_recorded_global(document.id, threshold):
                continue
            await repository.add_all(
                [
                    CredentialReminder(
                        organization_id=document.organization_id,
                        document_id=document.id,
                        days_before=threshold,
                        due_on=today,
                    )
                ]
            )
            await _notify_in_app(session, repository, document, threshold)
            reminded += 1
    return reminded, expired


async def _recipients(
    repository: CredentialRepository, document: CredentialDocument
) -> list[tuple[uuid.UUID, str]]:
    practitioner = await repository.user_global(document.practitioner_id)
    reviewers = await repository.members_with_role_global(
        document.organization_id, Role.CREDENTIALING_REVIEWER
    )
    people = [(user.id, user.email) for user in reviewers]
    if practitioner is not None and practitioner.is_active:
        people.insert(0, (practitioner.id, practitioner.email))
    return list(dict.fromkeys(people))


async def _notify_in_app(
    session: AsyncSession, repository: CredentialRepository, document: CredentialDocument, days: int
) -> None:
    label = label_of(document.category)
    title = (
        f"A {label} has expired" if days == EXPIRED_MARK else f"A {label} expires in {days} days"
    )
    await notify(
        session,
        organization_id=document.organization_id,
        user_ids=[user_id for user_id, _ in await _recipients(repository, document)],
        kind="credential.expired" if days == EXPIRED_MARK else "credential.expiring",
        title=title,
        body=f"Expiry date: {mailing.format_date(document.expires_on or date.min)}.",
        link=f"/credentials/documents/{document.id}",
        dedupe_key=f"credential-reminder-{document.id}-{days}",
    )


async def _mail_recorded(container: Container) -> int:
    async with container.db.unit_of_work() as session:
        repository = CredentialRepository(session)
        pending = await repository.unmailed_reminders_global()
    mailed = 0
    for reminder in pending:
        async with container.db.unit_of_work() as session:
            repository = CredentialRepository(session)
            rows = await repository.documents_by_ids_global([reminder.document_id])
            if not rows:
                continue
            document = rows[0][0]
            recipients = await _recipients(repository, document)
            organization = await repository.organization_global(document.organization_id)
            assert organization is not None
            assert document.expires_on is not None
        await mailing.send_mail(
            container,
            to=[email for _, email in recipients],
            template="credential_expiry_reminder",
            key=f"credential-reminder-{document.id}-{reminder.days_before}",
            organization_name=organization.name,
            category_label=label_of(document.category),
            expires_on=mailing.format_date(document.expires_on),
            days_left=reminder.days_before,
            document_url=mailing.link(container, f"/credentials/documents/{document.id}"),
        )
        async with container.db.unit_of_work() as session:
            await CredentialRepository(session).mark_reminder_mailed_global(reminder.id, utcnow())
        mailed += 1
    return mailed


async def run_expiry_sweep(container: Container, today: date) -> ExpirySweep:
    reminded, expired = await _record_due(container, today)
    mailed = await _mail_recorded(container)
    log.info("credential.expiry.swept", reminded=reminded, expired=expired, mailed=mailed)
    return ExpirySweep(reminded=reminded, expired=expired, mailed=mailed)
