"""What the review workflow and the expiry job tell people: in-app and by email.

Each function opens its own transaction for the in-app notifications (deduped
by key) and sends its emails with stable idempotency keys, so a retried or
replayed step neither repeats a notification nor sends an email twice. Emails
name categories, references and dates only: never a document's contents.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

import structlog

from clinvault.bootstrap import Container
from clinvault.credentials.categories import label_of
from clinvault.credentials.repository import CredentialRepository
from clinvault.credentials.schemas import ReasonCode
from clinvault.identity.principal import Role
from clinvault.mail.ports import MailDeliveryFailed
from clinvault.notifications.service import notify
from clinvault.timeutil import utcnow

log = structlog.get_logger(__name__)

REASON_LABELS: dict[str, str] = {
    ReasonCode.ILLEGIBLE: "the document is not legible",
    ReasonCode.EXPIRED: "the document has expired",
    ReasonCode.MISMATCH_NAME: "the name does not match your profile",
    ReasonCode.UNVERIFIABLE: "the document could not be verified with its issuer",
    ReasonCode.WRONG_DOCUMENT: "this is not the document the category asks for",
    ReasonCode.OTHER: "see the reviewer's note",
}


def format_date(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def link(container: Container, path: str) -> str:
    return f"{container.settings.public_url.rstrip('/')}{path}"


async def send_mail(
    container: Container, *, to: Sequence[str], template: str, key: str, **values: object
) -> str:
    if not to:
        return "no_recipient"
    mail = container.renderer.compose(template, to=list(to), idempotency_key=key, **values)
    try:
        await container.mailer.send(mail)
    except MailDeliveryFailed as exc:
        if exc.retryable:
            raise
        log.error("credentials.mail.refused", template=template, smtp_code=exc.smtp_code)
        return "refused"
    return "sent"


async def send_confirmation(
    container: Container, submission_id: uuid.UUID, document_ids: Sequence[uuid.UUID], key: str
) -> str:
    async with container.db.unit_of_work() as session:
        repository = CredentialRepository(session)
        submission = await repository.submission_global(submission_id)
        if submission is None:
            return "missing"
        rows = await repository.documents_by_ids_global(document_ids)
        practitioner = await repository.user_global(submission.practitioner_id)
        organization = await repository.organization_global(submission.organization_id)
        assert organization is not None
        status_path = f"/credentials/submissions/{submission.reference}"
        await notify(
            session,
            organization_id=submission.organization_id,
            user_ids=[submission.practitioner_id],
            kind="credential.submitted",
            title=f"Submission {submission.reference} received",
            body=f"{len(rows)} document(s) received; estimated review by "
            f"{format_date(submission.estimated_review_by)}.",
            link=status_path,
            dedupe_key=key,
        )
    if practitioner is None or not practitioner.is_active:
        return "no_recipient"
    return await send_mail(
        container,
        to=[practitioner.email],
        template="credential_submitted",
        key=key,
        organization_name=organization.name,
        reference=submission.reference,
        categories=[label_of(document.category) for document, _, _ in rows],
        estimated_review_by=format_date(submission.estimated_review_by),
        status_url=link(container, status_path),
    )


async def _organization_people(
    container: Container, submission_id: uuid.UUID, role: Role
) -> tuple[str, str, uuid.UUID, list[tuple[uuid.UUID, str]]] | None:
    async with container.db.unit_of_work() as session:
        repository = CredentialRepository(session)
        submission = await repository.submission_global(submission_id)
        if submission is None:
            return None
        organization = await repository.organization_global(submission.organization_id)
        assert organization is not None
        people = await repository.members_with_role_global(submission.organization_id, role)
        return (
            organization.name,
            submission.reference,
            submission.organization_id,
            [(p.id, p.email) for p in people if p.id != submission.practitioner_id],
        )


async def tell_reviewers(
    container: Container,
    submission_id: uuid.UUID,
    document_ids: Sequence[uuid.UUID],
    review_by: date,
    key: str,
) -> str:
    found = await _organization_people(container, submission_id, Role.CREDENTIALING_REVIEWER)
    if found is None:
        return "missing"
    organization_name, reference, organization_id, reviewers = found
    async with container.db.unit_of_work() as session:
        rows = await CredentialRepository(session).documents_by_ids_global(document_ids)
        categories = [label_of(document.category) for document, _, _ in rows]
        await notify(
            session,
            organization_id=organization_id,
            user_ids=[user_id for user_id, _ in reviewers],
            kind="credential.review_requested",
            title=f"Submission {reference} to review",
            body=f"{len(rows)} document(s) waiting: {', '.join(categories)}.",
            link="/credentials/review",
            dedupe_key=key,
        )
    return await send_mail(
        container,
        to=[email for _, email in reviewers],
        template="credential_review_requested",
        key=key,
        organization_name=organization_name,
        reference=reference,
        document_count=len(rows),
        categories=categories,
        estimated_review_by=format_date(review_by),
        queue_url=link(container, "/credentials/review"),
    )


async def escalate(
    container: Container, submission_id: uuid.UUID, pending_count: int, review_by: date, key: str
) -> str:
    found = await _organization_people(container, submission_id, Role.ORG_ADMIN)
    if found is None:
        return "missing"
    organization_name, reference, organization_id, admins = found
    async with container.db.unit_of_work() as session:
        await notify(
            session,
            organization_id=organization_id,
            user_ids=[user_id for user_id, _ in admins],
            kind="credential.review_overdue",
            title=f"Review of {reference} is overdue",
            body=f"{pending_count} document(s) still wait for a decision.",
            link="/credentials/review",
            dedupe_key=key,
        )
        await CredentialRepository(session).mark_escalated_global(submission_id, utcnow())
    return await send_mail(
        container,
        to=[email for _, email in admins],
        template="credential_escalation",
        key=key,
        organization_name=organization_name,
        reference=reference,
        pending_count=pending_count,
        estimated_review_by=format_date(review_by),
        queue_url=link(container, "/credentials/review"),
    )


async def tell_decision(container: Container, document_id: uuid.UUID) -> str:
    """The practitioner's in-app notice of one decision, at once (the email is batched)."""
    key = f"credential-decision-{document_id}"
    async with container.db.unit_of_work() as session:
        repository = CredentialRepository(session)
        rows = await repository.documents_by_ids_global([document_id])
        if not rows:
            return "missing"
        document, _, submission = rows[0]
        if document.status not in ("verified", "rejected"):
            return "undecided"
        label = label_of(document.category)
        await notify(
            session,
            organization_id=document.organization_id,
            user_ids=[document.practitioner_id],
            kind=f"credential.{document.status}",
            title=f"Your {label} was {document.status}",
            body=f"Submission {submission.reference}: {label} {document.status}.",
            link=f"/credentials/documents/{document.id}",
            dedupe_key=key,
        )
    return "notified"


def _summary(decisions: Sequence[str]) -> str:
    counts = {name: decisions.count(name) for name in ("verified", "rejected")}
    return ", ".join(f"{count} {name}" for name, count in counts.items() if count)


async def mail_decisions(
    container: Container, submission_id: uuid.UUID, document_ids: Sequence[uuid.UUID], key: str
) -> str:
    """One email to the practitioner summarizing a batch of decisions on a submission."""
    async with container.db.unit_of_work() as session:
        repository = CredentialRepository(session)
        submission = await repository.submission_global(submission_id)
        rows = await repository.documents_by_ids_global(document_ids)
        if submission is None or not rows:
            return "missing"
        practitioner = await repository.user_global(submission.practitioner_id)
        organization = await repository.organization_global(submission.organization_id)
        assert organization is not None
    decisions = [
        {
            "category_label": label_of(document.category),
            "decision": document.status,
            "reason_label": REASON_LABELS.get(document.reason_code or ""),
        }
        for document, _, _ in rows
        if document.status in ("verified", "rejected")
    ]
    if not decisions:
        return "undecided"
    if practitioner is None or not practitioner.is_active:
        return "no_recipient"
    return await send_mail(
        container,
        to=[practitioner.email],
        template="credential_decision",
        key=key,
        organization_name=organization.name,
        reference=submission.reference,
        decisions=decisions,
        summary=_summary([str(item["decision"]) for item in decisions]),
        any_rejected=any(item["decision"] == "rejected" for item in decisions),
        submission_url=link(container, f"/credentials/submissions/{submission.reference}"),
    )
