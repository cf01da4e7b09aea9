"""Audit log shapes: query filters, one event as read, and a page of events."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Outcome = Literal["success", "denied", "failure", "error"]


@dataclass(frozen=True, slots=True)
class AuditFilters:
    """What a caller may narrow the audit log by; every field is optional."""

    organization_id: uuid.UUID | None = None
    actor_id: uuid.UUID | None = None
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
