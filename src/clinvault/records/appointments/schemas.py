"""Request and response bodies of the appointments API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from clinvault.inputs import PlausibleInstant
from clinvault.records.pagination import Page
from clinvault.records.schemas import MediumText, RequestBody

Status = Literal["scheduled", "cancelled", "requested", "declined"]
SCHEDULED = "scheduled"
CANCELLED = "cancelled"
# A patient's request waits for staff to confirm it (then scheduled) or decline it.
REQUESTED = "requested"
DECLINED = "declined"
# Statuses that do not hold the practitioner's time.
NOT_HOLDING = (CANCELLED, REQUESTED, DECLINED)


class AppointmentCreate(RequestBody):
    patient_id: uuid.UUID
    practitioner_id: uuid.UUID = Field(description="A doctor or nurse of your organization.")
    starts_at: PlausibleInstant
    ends_at: PlausibleInstant
    reason: MediumText | None = None


class AppointmentUpdate(RequestBody):
    """Reschedule: the fields sent replace the current ones."""

    practitioner_id: uuid.UUID | None = None
    starts_at: PlausibleInstant | None = None
    ends_at: PlausibleInstant | None = None
    reason: MediumText | None = None


class AppointmentRequestCreate(RequestBody):
    """A patient's request: staff confirm a slot in the preferred window."""

    patient_id: uuid.UUID | None = Field(
        default=None, description="Your own chart (the default); anyone else's is 404."
    )
    practitioner_id: uuid.UUID = Field(description="A doctor or nurse of the clinic.")
    window_start: PlausibleInstant = Field(description="The earliest time that suits you.")
    window_end: PlausibleInstant = Field(description="The latest start that suits you.")
    reason: MediumText | None = None


class RequestConfirm(RequestBody):
    """Front desk: the start (default: the window's start) and length of the booked slot."""

    starts_at: PlausibleInstant | None = None
    minutes: int = Field(default=30, ge=5, le=240)


class AppointmentRead(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    practitioner_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    reason: str | None
    status: str
    cancelled_at: datetime | None
    cancelled_by: uuid.UUID | None = None
    requested_until: datetime | None = Field(
        default=None, description="A request's preferred window ends here (starts_at opens it)."
    )
    created_at: datetime
    updated_at: datetime


AppointmentPage = Page[AppointmentRead]
