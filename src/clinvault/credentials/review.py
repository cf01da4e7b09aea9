"""Use cases of the credentialing reviewers: the queue and the decision on a document."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.bootstrap import Container
from clinvault.credentials import policies, workflows
from clinvault.credentials.repository import PENDING
from clinvault.credentials.schemas import (
    DecisionRequest,
    DocumentPage,
    DocumentRead,
    DocumentStatus,
    ReasonCode,
)
from clinvault.credentials.service import CredentialService
from clinvault.credentials.views import document_read
from clinvault.db import after_commit
from clinvault.errors import CredentialAlreadyDecided, DecisionInvalid
from clinvault.identity.policies import require
from clinvault.identity.principal import Principal
from clinvault.timeutil import utcnow

DECIDED = frozenset({DocumentStatus.VERIFIED, DocumentStatus.REJECTED, DocumentStatus.EXPIRED})


class ReviewService:
    def __init__(self, session: AsyncSession, container: Container) -> None:
        self.session = session
        self.reads = CredentialService(session, container)
        self.repository = self.reads.repository

    async def queue(
        self,
        principal: Principal,
        *,
        status: DocumentStatus | None,
        category: str | None,
        practitioner_id: uuid.UUID | None,
        limit: int,
        offset: int,
    ) -> DocumentPage:
        """Documents of the organization, oldest first; by default those still waiting."""
        context.describe_resource("credential_document")
        require(
            policies.can_review_queue(principal),
            "Only credentialing reviewers see the review queue.",
        )
        rows, total = await self.repository.queue(
            tenant=principal.organization_id,
            statuses=[status.value] if status is not None else list(PENDING),
            category=category,
            practitioner_id=practitioner_id,
            limit=limit,
            offset=offset,
        )
        today = utcnow().date()
        return DocumentPage(
            items=[document_read(row, today) for row in rows],
            total=total,
            limit=limit,
            offset=offset,
        )

    async def decide(
        self, principal: Principal, document_id: uuid.UUID, body: DecisionRequest
    ) -> DocumentRead:
        row = await self.reads.visible_document(principal, document_id, lock=True)
        document = row[0]
        require(
            policies.is_reviewer(principal),
            "Only credentialing reviewers decide on credential documents.",
        )
        require(
            policies.can_decide(principal, document.practitioner_id),
            "A reviewer cannot decide on their own documents: ask another reviewer.",
        )
        if DocumentStatus(document.status) in DECIDED or not document.is_current:
            raise CredentialAlreadyDecided(
                f"This document is already {document.status}: a decision cannot be changed."
            )
        rejecting = body.decision == DocumentStatus.REJECTED.value
        if rejecting and (body.reason_code is None or not body.note):
            raise DecisionInvalid(
                "A rejection needs a reason_code (one of "
                f"{', '.join(code.value for code in ReasonCode)}) and a note for the "
                "practitioner."
            )
        now = utcnow()
        document.status = body.decision
        document.status_changed_at = now
        document.decided_at = now
        document.decided_by = principal.user_id
        document.reason_code = body.reason_code.value if body.reason_code else None
        document.note = body.note or None
        await self.session.flush()
        context.note_detail(body.decision)
        workflow_id, decided_id = document.review_workflow_id, document.id
        after_commit(self.session, lambda: workflows.wake_review(workflow_id, decided_id))
        return document_read(row, now.date())
