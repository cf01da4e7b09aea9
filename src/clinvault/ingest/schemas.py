"""Request and response bodies of the CSV ingest API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from clinvault.inputs import SingleLine
from clinvault.records.pagination import Page

JobState = Literal[
    "uploaded",
    "validating",
    "processing",
    "completed",
    "completed_with_errors",
    "failed",
    "cancelled",
]
JOB_STATES: tuple[str, ...] = get_args(JobState)
FINISHED_STATES = frozenset({"completed", "completed_with_errors", "failed", "cancelled"})
OnChangedRow = Literal["reject", "amend"]
FileName = Annotated[str, SingleLine(255)]
TimeZoneName = Annotated[str, SingleLine(64)]
Sha256Hex = Annotated[str, Field(pattern=r"^[0-9a-fA-F]{64}$")]


class RequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


def check_timezone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            "unknown time zone: use an IANA name such as America/Los_Angeles or UTC"
        ) from None
    return value


class UploadCreate(RequestBody):
    filename: FileName = Field(description="The file's name, kept as the records' provenance.")
    dry_run: bool = Field(default=False, description="Validate and report; write nothing.")
    timezone: TimeZoneName | None = Field(
        default=None,
        description="IANA time zone for date-times written without an offset; without it "
        "such rows are refused.",
    )

    size: int | None = Field(
        default=None,
        ge=1,
        description="The file's exact size in bytes. Required with S3 storage, where the "
        "presigned PUT accepts exactly this many bytes.",
    )
    sha256: Sha256Hex | None = Field(
        default=None,
        description="The file's SHA-256 (64 hexadecimal characters). Required with S3 storage, "
        "where S3 refuses a PUT of other bytes.",
    )

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return check_timezone(value)


class UploadTicket(BaseModel):
    upload_id: uuid.UUID
    method: Literal["PUT"] = "PUT"
    url: str = Field(description="Send the file's bytes here in one PUT, before expires_at.")
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="Send exactly these headers with the PUT (with S3 storage: the signed "
        "length, checksum, encryption and tag); none for the embedded URL.",
    )
    complete_url: str | None = Field(
        default=None,
        description="With S3 storage: POST here after the PUT to check the file and start "
        "the job. The embedded PUT starts the job itself.",
    )
    expires_at: datetime
    max_bytes: int = Field(description="The largest file accepted (the exact size with S3).")


class JobRead(BaseModel):
    id: uuid.UUID
    upload_id: uuid.UUID
    state: JobState
    filename: str
    sha256: str
    size: int
    dry_run: bool
    timezone: str | None
    started_by: uuid.UUID | None
    started_by_client: uuid.UUID | None = Field(
        default=None, description="The API client that started it (then started_by is null)."
    )
    duplicate_of: uuid.UUID | None = Field(
        description="An earlier job that imported the same file (same SHA-256)."
    )
    rows_read: int
    rows_valid: int
    rows_inserted: int
    rows_present: int = Field(description="Rows already present with the same content.")
    rows_amended: int
    rows_rejected: int
    patients_created: int
    progress: float = Field(description="Share of the file processed, 0 to 1.")
    unknown_columns: list[str]
    message: str | None
    error_report: bool = Field(description="Whether GET .../error-report has a report.")
    cancel_requested: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


JobPage = Page[JobRead]


class SettingsRead(BaseModel):
    on_changed_row: OnChangedRow = Field(
        description="A row whose MRN and date-time exist with other notes: 'reject' it as a "
        "conflict (default) or store it as an 'amend'ment of the earlier record."
    )
    max_invalid_percent: int = Field(
        description="A job stops when more than this share of its rows is invalid."
    )


class SettingsUpdate(RequestBody):
    on_changed_row: OnChangedRow = "reject"
    max_invalid_percent: int = Field(default=50, ge=1, le=100)
