"""Rows to response bodies, the submission status derived from its documents, review dates."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from clinvault.credentials.repository import DocumentRow
from clinvault.credentials.schemas import DocumentRead, DocumentStatus


def add_business_days(start: date, days: int) -> date:
    """`days` working days (Monday to Friday) after `start`."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current


def estimated_review_date(today: date, sla_days: int, waiting: int, per_extra_day: int) -> date:
    """SLA business days from today, one more per `per_extra_day` documents already waiting."""
    return add_business_days(today, sla_days + waiting // per_extra_day)


def days_to_expiry(expires_on: date | None, today: date) -> int | None:
    return None if expires_on is None else (expires_on - today).days


def document_read(row: DocumentRow, today: date) -> DocumentRead:
    document, stored, submission = row
    return DocumentRead(
        id=document.id,
        submission_reference=submission.reference,
        practitioner_id=document.practitioner_id,
        category=document.category,
        issuing_authority=document.issuing_authority,
        issued_on=document.issued_on,
        expires_on=document.expires_on,
        days_to_expiry=days_to_expiry(document.expires_on, today),
        document_number=document.document_number,
        filename=document.filename,
        content_type=stored.content_type,
        size=stored.plaintext_size,
        sha256=stored.sha256,
        version=document.version,
        replaces_id=document.replaces_id,
        is_current=document.is_current,
        status=DocumentStatus(document.status),
        status_changed_at=document.status_changed_at,
        decided_at=document.decided_at,
        reason_code=document.reason_code,
        note=document.note,
        submitted_at=document.created_at,
        review_started_at=document.review_started_at,
        assigned_reviewer_id=document.assigned_reviewer_id,
    )


def submission_status(statuses: Iterable[str]) -> str:
    """The status of a submission from its current documents.

    Any document still waiting -> in_review (or submitted if none was opened
    or decided yet); else any rejected -> rejected; any expired -> expired;
    else verified.
    """
    found = set(statuses)
    if found & {DocumentStatus.SUBMITTED, DocumentStatus.IN_REVIEW}:
        if found == {DocumentStatus.SUBMITTED}:
            return DocumentStatus.SUBMITTED.value
        return DocumentStatus.IN_REVIEW.value
    for status in (DocumentStatus.REJECTED, DocumentStatus.EXPIRED):
        if status in found:
            return status.value
    return DocumentStatus.VERIFIED.value
