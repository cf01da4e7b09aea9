"""Request and response bodies of the medical records API."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Literal, get_args

from pydantic import BaseModel, Field, field_validator

from clinvault.inputs import PlausibleInstant
from clinvault.records.pagination import Page
from clinvault.records.schemas import ClinicalText, MediumText, RequestBody
from clinvault.timeutil import utcnow

RecordType = Literal[
    "consultation",
    "lab_result",
    "prescription",
    "imaging",
    "note",
    "procedure",
    "vital_signs",
    "discharge_summary",
]
Priority = Literal["low", "normal", "high", "urgent"]
RECORD_TYPES: tuple[str, ...] = get_args(RecordType)
PRIORITIES: tuple[str, ...] = get_args(Priority)
CLOCK_SKEW = timedelta(minutes=5)


def _not_future(value: datetime | None) -> datetime | None:
    if value is not None and value > utcnow() + CLOCK_SKEW:
        raise ValueError("recorded_at must not be in the future")
    return value


class RecordCreate(RequestBody):
    patient_id: uuid.UUID
    record_type: RecordType
    title: MediumText
    content: ClinicalText
    priority: Priority = "normal"
    recorded_at: PlausibleInstant | None = Field(
        default=None, description="When it was observed (timezone-aware); defaults to now."
    )

    @field_validator("recorded_at")
    @classmethod
    def _recorded(cls, value: datetime | None) -> datetime | None:
        return _not_future(value)


class RecordAmendment(RequestBody):
    """A new version: fields left out are carried over from the amended version."""

    title: MediumText | None = None
    content: ClinicalText | None = None
    record_type: RecordType | None = None
    priority: Priority | None = None
    recorded_at: PlausibleInstant | None = None

    @field_validator("recorded_at")
    @classmethod
    def _recorded(cls, value: datetime | None) -> datetime | None:
        return _not_future(value)


class AttachmentRead(BaseModel):
    id: uuid.UUID
    filename: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime


class RecordProvenance(BaseModel):
    """Where an imported record came from (absent on records written through the API)."""

    source_file: str
    job_id: uuid.UUID = Field(description="The import job: GET /api/ingest/jobs/{job_id}.")
    row_number: int = Field(description="The line of the file the record was read from.")
    processed_at: datetime


class RecordRead(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    record_type: str
    title: str
    content: str
    priority: str
    author_id: uuid.UUID | None
    recorded_at: datetime
    created_at: datetime
    version: int
    supersedes: uuid.UUID | None
    superseded_by: uuid.UUID | None
    attachments: list[AttachmentRead] = Field(default_factory=list)
    provenance: RecordProvenance | None = None


class RecordTypeRead(BaseModel):
    value: str
    label: str


class RecordCatalogue(BaseModel):
    record_types: list[RecordTypeRead]
    priorities: list[str]


class RecordPage(Page[RecordRead]):
    next_cursor: str | None = Field(
        default=None,
        description="Pass as `cursor` for the next page in chronological order (null at the end).",
    )
