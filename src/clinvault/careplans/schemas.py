"""Request and response bodies of care plans.

Every field is bounded: text refuses control characters (the body may hold
line breaks), lists have a maximum length, dates are plausible.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from clinvault.careplans.states import ActivityStatus, PlanStatus
from clinvault.inputs import MultiLine, Name, PlausibleDate, SingleLine

MAX_BODY = 50_000
MAX_GOALS = 50
MAX_ACTIVITIES = 100

Goal = Annotated[str, SingleLine(500)]
Body = Annotated[str, MultiLine(MAX_BODY, min_length=0, strip=False)]


class RequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Activity(RequestBody):
    what: Annotated[str, SingleLine(500)]
    who: Annotated[str, SingleLine(200)] | None = None
    when: Annotated[str, SingleLine(200)] | None = None
    status: ActivityStatus = ActivityStatus.NOT_STARTED


class CarePlanContent(RequestBody):
    """What a version of a plan says."""

    title: Name
    status: PlanStatus = PlanStatus.DRAFT
    period_start: PlausibleDate | None = None
    period_end: PlausibleDate | None = None
    goals: Annotated[list[Goal], Field(max_length=MAX_GOALS)] = []
    activities: Annotated[list[Activity], Field(max_length=MAX_ACTIVITIES)] = []
    body: Body = Field("", description=f"Markdown, at most {MAX_BODY} characters")
    shared_with_patient: bool = Field(False, description="The patient reads it, read-only")

    @model_validator(mode="after")
    def _period_in_order(self) -> CarePlanContent:
        if self.period_start and self.period_end and self.period_end < self.period_start:
            raise ValueError("period_end is before period_start: swap or correct the dates")
        return self


class CarePlanCreate(CarePlanContent):
    patient_id: uuid.UUID


class CarePlanUpdate(CarePlanContent):
    """The whole new content; the version it is based on travels in `If-Match`."""


class ActivityRead(BaseModel):
    what: str
    who: str | None
    when: str | None
    status: ActivityStatus


class ContentRead(BaseModel):
    title: str
    status: PlanStatus
    period_start: date | None
    period_end: date | None
    goals: list[str]
    activities: list[ActivityRead]
    body: str
    body_html: str
    shared_with_patient: bool


class CarePlanRead(ContentRead):
    id: uuid.UUID
    organization_id: uuid.UUID
    patient_id: uuid.UUID
    version: int
    etag: str
    author_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


class CarePlanSummary(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    title: str
    status: PlanStatus
    version: int
    updated_at: datetime


class CarePlanList(BaseModel):
    items: list[CarePlanSummary]
    total: int
    limit: int
    offset: int


class VersionSummary(BaseModel):
    number: int
    author_id: uuid.UUID | None
    author_name: str
    created_at: datetime
    status: PlanStatus
    restored_from: int | None


class VersionRead(VersionSummary):
    plan_id: uuid.UUID
    content: ContentRead


class FieldChange(BaseModel):
    field: str
    before: object
    after: object


class DiffRead(BaseModel):
    plan_id: uuid.UUID
    from_version: int
    to_version: int
    changes: list[FieldChange]
    body_diff: list[str] = Field(description="A unified line diff of the body")


class ShareLevel(StrEnum):
    VIEW = "view"
    COMMENT = "comment"
    EDIT = "edit"


class ShareCreate(RequestBody):
    """To a user (`user_id`) or to another provider organization (`organization_id`)."""

    user_id: uuid.UUID | None = None
    organization_id: uuid.UUID | None = None
    level: ShareLevel = ShareLevel.VIEW
    expires_on: PlausibleDate | None = Field(
        None, description="Last day of the share; another organization's defaults to 90 days"
    )

    @model_validator(mode="after")
    def _one_grantee(self) -> ShareCreate:
        if (self.user_id is None) == (self.organization_id is None):
            raise ValueError("name exactly one of user_id or organization_id")
        return self


class ShareUpdate(RequestBody):
    expires_on: PlausibleDate


class ShareRead(BaseModel):
    id: uuid.UUID
    plan_id: uuid.UUID
    organization_id: uuid.UUID
    grantee_user_id: uuid.UUID | None
    grantee_organization_id: uuid.UUID
    grantee_name: str
    level: ShareLevel
    state: str = Field(description="pending, live, expired or revoked")
    expires_at: datetime | None
    created_by: uuid.UUID | None
    created_at: datetime
    accepted_at: datetime | None
    accepted_by: uuid.UUID | None
    revoked_at: datetime | None
    revoked_by: uuid.UUID | None


class CommentCreate(RequestBody):
    body: Annotated[str, MultiLine(4000)]
    parent_id: uuid.UUID | None = Field(None, description="The thread to reply to")
    version: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = Field(
        None, description="The version commented on (default: the current one)"
    )
    goal_index: Annotated[int, Field(ge=0, le=MAX_GOALS - 1)] | None = None
    activity_index: Annotated[int, Field(ge=0, le=MAX_ACTIVITIES - 1)] | None = None
    mentions: Annotated[list[uuid.UUID], Field(max_length=20)] = Field(
        [], description="Users to notify; each must be able to see the plan"
    )

    @model_validator(mode="after")
    def _one_anchor(self) -> CommentCreate:
        if self.goal_index is not None and self.activity_index is not None:
            raise ValueError("anchor the comment to a goal or an activity, not both")
        return self


class CommentUpdate(RequestBody):
    body: Annotated[str, MultiLine(4000)]


class CommentRead(BaseModel):
    id: uuid.UUID
    plan_id: uuid.UUID
    parent_id: uuid.UUID | None
    version: int
    on_current_version: bool
    anchor: str | None
    outdated: bool = Field(description="The goal or activity changed since the comment")
    author_id: uuid.UUID | None
    author_name: str
    body: str
    created_at: datetime
    edited_at: datetime | None
    editable_until: datetime
    resolved_at: datetime | None
    resolved_by: uuid.UUID | None
    replies: list[CommentRead] = []


class AttachmentRead(BaseModel):
    """A document attached to a plan; `version` is the plan version it was added in. A
    removed one stays listed, with who removed it, when and in which version."""

    id: uuid.UUID
    plan_id: uuid.UUID
    version: int
    filename: str
    content_type: str
    size: int
    added_by: uuid.UUID | None
    added_by_name: str
    created_at: datetime
    removed_at: datetime | None = None
    removed_by: uuid.UUID | None = None
    removed_in_version: int | None = None


class MailDelivery(StrEnum):
    IMMEDIATE = "immediate"
    DAILY_DIGEST = "daily_digest"


class MailPreference(RequestBody):
    """How care-plan emails reach you: one per event, or one a day listing them all."""

    email: MailDelivery
