"""Request and response bodies of the credentials API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from clinvault.inputs import MultiLine, PlausibleDate, SingleLine

Text200 = Annotated[str, SingleLine(200)]
CategoryCode = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z][a-z0-9_]{1,63}$")
]
Sha256Hex = Annotated[str, StringConstraints(to_lower=True, pattern=r"^[0-9a-fA-F]{64}$")]


class DocumentStatus(StrEnum):
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    VERIFIED = "verified"
    REJECTED = "rejected"
    EXPIRED = "expired"


PENDING_STATUSES = frozenset({DocumentStatus.SUBMITTED, DocumentStatus.IN_REVIEW})


class ReasonCode(StrEnum):
    ILLEGIBLE = "illegible"
    EXPIRED = "expired"
    MISMATCH_NAME = "mismatch_name"
    UNVERIFIABLE = "unverifiable"
    WRONG_DOCUMENT = "wrong_document"
    OTHER = "other"


class RequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DocumentMetadata(RequestBody):
    """One entry of the `metadata` part, describing the file at the same position."""

    category: CategoryCode
    issuing_authority: Text200
    issued_on: PlausibleDate
    expires_on: PlausibleDate | None = None
    document_number: Annotated[str, SingleLine(64, min_length=0)] = Field(
        default="", description="Required for every category but curriculum_vitae"
    )
    sha256: Sha256Hex | None = None


class ProfileUpdate(RequestBody):
    npi: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{10}$")]
    specialty: Annotated[str, SingleLine(120, min_length=0)] = ""


class ProfileRead(BaseModel):
    user_id: uuid.UUID
    npi: str | None
    specialty: str
    updated_at: datetime


class CategoryCreate(RequestBody):
    code: CategoryCode
    label: Text200
    requires_expiry: bool = True
    allowed_kinds: list[Literal["pdf", "jpeg", "png", "docx"]] = Field(
        default=["pdf"], min_length=1, max_length=4
    )


class CategoryRead(BaseModel):
    code: str
    label: str
    requires_expiry: bool
    allowed_kinds: list[str]
    built_in: bool


class DocumentSummary(BaseModel):
    id: uuid.UUID
    category: str
    status: DocumentStatus


class SubmissionCreated(BaseModel):
    reference: str
    submitted_at: datetime
    estimated_review_by: date
    documents: list[DocumentSummary]


class DocumentRead(BaseModel):
    id: uuid.UUID
    submission_reference: str
    practitioner_id: uuid.UUID
    category: str
    issuing_authority: str
    issued_on: date
    expires_on: date | None
    days_to_expiry: int | None
    document_number: str
    filename: str
    content_type: str
    size: int
    sha256: str
    version: int
    replaces_id: uuid.UUID | None
    is_current: bool
    status: DocumentStatus
    status_changed_at: datetime
    decided_at: datetime | None
    reason_code: str | None
    note: str | None
    submitted_at: datetime
    review_started_at: datetime | None = None
    assigned_reviewer_id: uuid.UUID | None = None


class SubmissionRead(BaseModel):
    reference: str
    practitioner_id: uuid.UUID
    status: str
    submitted_at: datetime
    estimated_review_by: date
    documents: list[DocumentRead]


class DecisionRequest(RequestBody):
    decision: Literal["verified", "rejected"]
    reason_code: ReasonCode | None = None
    note: Annotated[str, MultiLine(2000, min_length=0)] | None = None


class ReviewStart(RequestBody):
    """Start the review; assigned to `assignee_id` (a reviewer of the organization) or,
    without it, to the caller."""

    assignee_id: uuid.UUID | None = None


class DocumentPage(BaseModel):
    items: list[DocumentRead]
    total: int
    limit: int
    offset: int
