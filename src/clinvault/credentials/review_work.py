"""The reviewer's work: whose documents wait, starting and assigning reviews, expiries.

Starting a review is an explicit act (a reviewer's "Start review", or an
assignment to a reviewer of the organization), recorded on the document and
audited as the request's event; reading a document in the portal never starts
it. Licence flags are read by any staff member of the organization: they say
only that a practitioner's licence is rejected or expired.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.bootstrap import Container
from clinvault.credentials import policies
from clinvault.credentials.review import DECIDED, ReviewService
from clinvault.credentials.review_facts import (
    Completeness,
    PractitionerCard,
    SlaState,
    completeness,
    licence_flag,
    practitioner_card,
    sla_state,
    unknown_practitioner,
)
from clinvault.credentials.schemas import DocumentRead, DocumentStatus
from clinvault.credentials.verify_links import CheckLink, credential_check_link
from clinvault.credentials.views import document_read
from clinvault.errors import CredentialAlreadyDecided
from clinvault.errors.credentials import ReviewAssigneeInvalid
from clinvault.identity.policies import require
from clinvault.identity.principal import Principal, Role
from clinvault.timeutil import utcnow

MAX_EXPIRING_DAYS = 730


@dataclass(frozen=True, slots=True)
class ReviewItem:
    document: DocumentRead
    sla: SlaState
    assignee: str | None
    check_link: CheckLink


@dataclass(frozen=True, slots=True)
class PractitionerWork:
    practitioner: PractitionerCard
    completeness: Completeness
    items: list[ReviewItem]


@dataclass(frozen=True, slots=True)
class ReviewQueue:
    groups: list[PractitionerWork]
    total: int


@dataclass(frozen=True, slots=True)
class DocumentWork:
    practitioner: PractitionerCard
    completeness: Completeness
    item: ReviewItem
    reviewers: dict[uuid.UUID, str]
    flag: str | None


class ReviewWork:
    def __init__(self, session: AsyncSession, container: Container) -> None:
        self.session = session
        self.container = container
        self.review = ReviewService(session, container)
        self.reads = self.review.reads
        self.repository = self.reads.repository

    @property
    def sla_days(self) -> int:
        return self.container.settings.credentials.review_sla_business_days

    async def _cards(
        self, principal: Principal, ids: set[uuid.UUID]
    ) -> dict[uuid.UUID, PractitionerCard]:
        found = await self.repository.people(list(ids), tenant=principal.organization_id)
        cards = {user.id: practitioner_card(user, profile) for user, profile in found}
        return {i: cards.get(i) or unknown_practitioner(i) for i in ids}

    async def _completeness(
        self, principal: Principal, ids: set[uuid.UUID]
    ) -> dict[uuid.UUID, Completeness]:
        rows = await self.repository.current_of_practitioners(
            list(ids), tenant=principal.organization_id
        )
        by_practitioner = defaultdict(list)
        for row in rows:
            by_practitioner[row.practitioner_id].append(row)
        today = utcnow().date()
        return {i: completeness(by_practitioner.get(i, []), today) for i in ids}

    def _item(self, document: DocumentRead, names: dict[uuid.UUID, str]) -> ReviewItem:
        assignee = document.assigned_reviewer_id
        return ReviewItem(
            document=document,
            sla=sla_state(document.submitted_at, utcnow().date(), self.sla_days),
            assignee=None if assignee is None else names.get(assignee, "Former member"),
            check_link=credential_check_link(document.category, document.issuing_authority),
        )

    async def queue(
        self,
        principal: Principal,
        *,
        status: DocumentStatus | None,
        category: str | None,
        limit: int,
        offset: int,
    ) -> ReviewQueue:
        """The review queue grouped by practitioner, oldest document first."""
        page = await self.review.queue(
            principal,
            status=status,
            category=category,
            practitioner_id=None,
            limit=limit,
            offset=offset,
        )
        owners = {d.practitioner_id for d in page.items}
        assignees = {d.assigned_reviewer_id for d in page.items if d.assigned_reviewer_id}
        cards = await self._cards(principal, owners | assignees)
        names = {key: card.name for key, card in cards.items()}
        done = await self._completeness(principal, owners)
        groups: dict[uuid.UUID, PractitionerWork] = {}
        for document in page.items:
            owner = document.practitioner_id
            group = groups.setdefault(owner, PractitionerWork(cards[owner], done[owner], []))
            group.items.append(self._item(document, names))
        return ReviewQueue(groups=list(groups.values()), total=page.total)

    async def document(self, principal: Principal, document_id: uuid.UUID) -> DocumentWork:
        """Practitioner, completeness and review state of a document, for its reviewers."""
        row = await self.reads.visible_document(principal, document_id)
        document = document_read(row, utcnow().date())
        owner = document.practitioner_id
        reviewers = await self.reviewers(principal, exclude=owner)
        ids = {owner}
        if document.assigned_reviewer_id is not None:
            ids.add(document.assigned_reviewer_id)
        cards = await self._cards(principal, ids)
        names = {key: card.name for key, card in cards.items()} | reviewers
        documents = await self.repository.current_of_practitioners(
            [owner], tenant=principal.organization_id
        )
        today = utcnow().date()
        return DocumentWork(
            practitioner=cards[owner],
            completeness=completeness(documents, today),
            item=self._item(document, names),
            reviewers=reviewers,
            flag=licence_flag(documents, today),
        )

    async def reviewers(
        self, principal: Principal, *, exclude: uuid.UUID | None = None
    ) -> dict[uuid.UUID, str]:
        """The organization's active credentialing reviewers, by name."""
        people = await self.repository.members_with_role_global(
            principal.organization_id, Role.CREDENTIALING_REVIEWER
        )
        ordered = sorted(people, key=lambda user: (user.display_name or user.email).casefold())
        return {u.id: u.display_name or u.email for u in ordered if u.id != exclude}

    async def start_review(
        self, principal: Principal, document_id: uuid.UUID, assignee_id: uuid.UUID | None
    ) -> DocumentRead:
        """Start (or hand over) the review of a waiting document; the assignee defaults to
        the reviewer who starts it."""
        row = await self.reads.visible_document(principal, document_id, lock=True)
        document = row[0]
        require(
            policies.can_decide(principal, document.practitioner_id),
            "Only a credentialing reviewer other than the document's practitioner starts "
            "its review.",
        )
        if DocumentStatus(document.status) in DECIDED or not document.is_current:
            raise CredentialAlreadyDecided(
                f"This document is already {document.status}: its review is over."
            )
        assignee = assignee_id or principal.user_id
        if assignee != principal.user_id:
            reviewers = await self.reviewers(principal, exclude=document.practitioner_id)
            if assignee not in reviewers:
                raise ReviewAssigneeInvalid(
                    "Choose a credentialing reviewer of your organization who is not the "
                    "document's practitioner."
                )
        now = utcnow()
        starting = document.status == DocumentStatus.SUBMITTED.value
        if starting:
            document.status = DocumentStatus.IN_REVIEW.value
            document.status_changed_at = now
        if document.review_started_at is None:
            document.review_started_at = now
            document.review_started_by = principal.user_id
        document.assigned_reviewer_id = assignee
        await self.session.flush()
        context.note_detail("review_started" if starting else "review_assigned")
        return document_read(row, now.date())

    async def expiring(
        self, principal: Principal, *, within_days: int, category: str | None
    ) -> list[tuple[DocumentRead, PractitionerCard]]:
        """Verified documents of the organization expiring within `within_days` days."""
        context.describe_resource("credential_document")
        require(
            policies.sees_organization_expiries(principal),
            "Only credentialing reviewers and organization administrators see the "
            "organization's expiring credentials.",
        )
        today = utcnow().date()
        days = max(0, min(within_days, MAX_EXPIRING_DAYS))
        rows = await self.repository.verified_expiring(
            tenant=principal.organization_id, until=today + timedelta(days=days), category=category
        )
        documents = [document_read(row, today) for row in rows]
        cards = await self._cards(principal, {d.practitioner_id for d in documents})
        return [(d, cards[d.practitioner_id]) for d in documents]

    async def licence_flags(
        self, principal: Principal, practitioner_ids: set[uuid.UUID]
    ) -> dict[uuid.UUID, str]:
        """'Licence rejected' / 'Licence expired' per practitioner, for the organization's
        staff; nothing for patients or pharmacy staff."""
        if not policies.sees_licence_flags(principal) or not practitioner_ids:
            return {}
        rows = await self.repository.current_of_practitioners(
            list(practitioner_ids), tenant=principal.organization_id
        )
        by_practitioner = defaultdict(list)
        for row in rows:
            by_practitioner[row.practitioner_id].append(row)
        today = utcnow().date()
        flags = {key: licence_flag(found, today) for key, found in by_practitioner.items()}
        return {key: flag for key, flag in flags.items() if flag is not None}
