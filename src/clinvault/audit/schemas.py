"""Audit log shapes: query filters, one event as read, and a page of events."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from clinvault.audit.suspicious import FindingKind

Outcome = Literal["success", "denied", "failure", "error"]


@dataclass(frozen=True, slots=True)
class AuditFilters:
    """What a caller may narrow the audit log by; every field is optional."""

    organization_id: uuid.UUID | None = None
    actor_id: uuid.UUID | None = None
    # Any of these actors (the portal's name filter); an empty tuple matches nobody.
    actor_ids: tuple[uuid.UUID, ...] | None = None
    action_prefix: str | None = None
    outcome: Outcome | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    status_code: int | None = None
    since: datetime | None = None
    until: datetime | None = None


class AuditEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    id: uuid.UUID
    occurred_at: datetime
    request_id: str
    actor_id: uuid.UUID | None
    actor_roles: list[str]
    organization_id: uuid.UUID | None
    action: str
    resource_type: str | None
    resource_id: str | None
    outcome: Outcome
    status_code: int
    method: str
    path: str
    client_ip: str | None
    user_agent: str | None
    detail: str | None
    chain_seq: int | None = Field(
        description="Position in the tamper-evident chain; null until the chainer links it."
    )

    @field_validator("actor_roles", mode="before")
    @classmethod
    def _split_roles(cls, value: object) -> object:
        if isinstance(value, str):
            return [role for role in value.split(",") if role]
        return value


class AuditEventPage(BaseModel):
    items: list[AuditEventRead]
    total: int
    limit: int
    offset: int


class ActionCount(BaseModel):
    action: str
    count: int


class ActorCount(BaseModel):
    actor_id: uuid.UUID | None = Field(description="null: requests made without an account.")
    count: int


class OutcomeCount(BaseModel):
    outcome: Outcome
    count: int


class HourCount(BaseModel):
    hour: datetime = Field(description="Start of the UTC hour.")
    count: int


class AuditSummary(BaseModel):
    organization_id: uuid.UUID | None = Field(description="null: every organization.")
    start: datetime = Field(serialization_alias="from")
    end: datetime = Field(serialization_alias="to")
    total: int
    by_action: list[ActionCount] = Field(description="Most frequent first (at most 200).")
    by_actor: list[ActorCount] = Field(description="Most active first (at most 200).")
    by_outcome: list[OutcomeCount]
    per_hour: list[HourCount] = Field(description="Every hour of the window, oldest first.")


class SuspiciousFinding(BaseModel):
    kind: FindingKind
    actor_id: uuid.UUID | None
    client_ip: str | None = Field(description="Set for findings about an address, not an account.")
    count: int
    first_at: datetime
    last_at: datetime
    detail: str


class SuspiciousReport(BaseModel):
    organization_id: uuid.UUID | None = Field(description="null: every organization.")
    start: datetime = Field(serialization_alias="from")
    end: datetime = Field(serialization_alias="to")
    findings: list[SuspiciousFinding] = Field(description="Oldest first.")
    truncated: bool = Field(
        description="True when the window held more candidate events than are examined at "
        "once: narrow from/to to see everything."
    )
