"""Request and response bodies of the prescriptions API and the pharmacy directory.

Every text refuses control characters and has a maximum length, every number
and date has bounds (the shared types of `clinvault.inputs`). Quantities are
decimals with at most three places; whether a fraction is allowed depends on
the unit (`WHOLE_UNITS`).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from clinvault.inputs import INT32_MAX, MultiLine, PlausibleDate, SingleLine

MedicationText = Annotated[str, SingleLine(200)]
ShortLine = Annotated[str, SingleLine(100)]
Directions = Annotated[str, MultiLine(1000)]
Note = Annotated[str, MultiLine(2000)]
Reason = Annotated[str, MultiLine(500)]
RxNormCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{1,10}$")]
TotpCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{6}$")]
Quantity = Annotated[
    Decimal, Field(gt=0, le=Decimal(100_000), max_digits=9, decimal_places=3, allow_inf_nan=False)
]
RowVersion = Annotated[int, Field(ge=1, le=INT32_MAX)]

Schedule = Literal["none", "II", "III", "IV", "V"]
Unit = Literal[
    "tablet", "capsule", "patch", "suppository", "inhaler", "vial", "ampule", "pen", "each",
    "mL", "g",
]  # fmt: skip
WHOLE_UNITS = frozenset(
    {"tablet", "capsule", "patch", "suppository", "inhaler", "vial", "ampule", "pen", "each"}
)
UNITS: tuple[str, ...] = get_args(Unit)
SCHEDULES: tuple[str, ...] = get_args(Schedule)
DeclineReason = Literal[
    "out_of_stock", "not_covered", "clinical_concern", "cannot_verify", "patient_request", "other"
]
DECLINE_REASONS: tuple[str, ...] = get_args(DeclineReason)
QueueBucket = Literal["new", "in_progress", "rejected", "completed"]


class RequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Medication(RequestBody):
    name: MedicationText
    strength: ShortLine = Field(description='e.g. "500 mg"')
    dose_form: ShortLine = Field(description='e.g. "tablet"')
    rxnorm_code: RxNormCode | None = None


class PrescriptionCreate(RequestBody):
    """A new prescription, saved as a draft; a doctor then signs it."""

    patient_id: uuid.UUID
    prescriber_id: uuid.UUID | None = Field(
        default=None,
        description="The doctor who will sign; a doctor may leave it out (themself), "
        "a nurse must name one.",
    )
    pharmacy_id: uuid.UUID
    medication: Medication
    directions: Directions
    quantity: Quantity
    unit: Unit
    days_supply: int = Field(ge=1, le=365)
    refills_allowed: int = Field(default=0, ge=0, le=11)
    substitution_allowed: bool = True
    schedule: Schedule = "none"
    notes: Note | None = Field(default=None, description="Diagnosis or notes to the pharmacist.")
    valid_until: PlausibleDate | None = Field(
        default=None, description="Last day it may be filled; the organization default if absent."
    )
    earliest_fill_on: PlausibleDate | None = Field(
        default=None, description="Schedule II only: the first day it may be filled."
    )


class SignRequest(RequestBody):
    second_factor: TotpCode | None = Field(
        default=None, description="A current TOTP code; required for schedule II-V."
    )


class ReasonRequest(RequestBody):
    reason: Reason | None = None


class PharmacyChange(RequestBody):
    pharmacy_id: uuid.UUID


class ClaimRequest(RequestBody):
    version: RowVersion | None = Field(
        default=None, description="The prescription version you saw; a stale one is a 409."
    )


class DispenseRequest(RequestBody):
    quantity: Quantity
    version: RowVersion | None = None


class DeclineRequest(RequestBody):
    reason_code: DeclineReason
    note: Reason


class CancelDecision(RequestBody):
    decision: Literal["acknowledge", "deny"]
    reason: Reason | None = Field(default=None, description="Required to deny.")


class PolicyUpdate(RequestBody):
    """The organization's prescribing defaults; every field is required."""

    default_validity_days: int = Field(
        ge=1, le=365, description="Days a prescription stays fillable when valid_until is absent."
    )
    schedule_v_max_refills: int = Field(
        ge=0, le=11, description="At most this many refills of a schedule V prescription."
    )
    schedule_v_max_days: int = Field(
        ge=1, le=365, description="Schedule V: no fill later than this many days after issue."
    )


class PolicyRead(BaseModel):
    default_validity_days: int
    schedule_v_max_refills: int
    schedule_v_max_days: int
    customised: bool = Field(description="False while the built-in defaults apply.")
    updated_at: datetime | None


class PharmacyRead(BaseModel):
    id: uuid.UUID
    name: str
    address_line: str
    city: str
    postal_code: str
    phone: str


class PatientBrief(BaseModel):
    """What a pharmacy may know of the patient: name and date of birth."""

    first_name: str
    last_name: str
    date_of_birth: str


class PrescriberBrief(BaseModel):
    id: uuid.UUID
    name: str
    npi: str | None
    dea_number: str | None


class FillRead(BaseModel):
    sequence: int
    status: str
    quantity: float
    dispensed: float
    remaining: float
    pharmacy_id: uuid.UUID | None
    claimed_at: datetime | None
    closed_at: datetime | None


class DispenseRead(BaseModel):
    fill_sequence: int
    quantity: float
    remaining: float
    pharmacy_id: uuid.UUID
    pharmacy_name: str
    dispensed_at: datetime


class EventRead(BaseModel):
    occurred_at: datetime
    action: str
    actor_name: str
    acting_organization_id: uuid.UUID | None
    acting_organization_name: str
    from_state: str
    to_state: str
    reason_code: str | None
    note: str | None
    quantity: float | None


class PrescriptionRead(BaseModel):
    id: uuid.UUID
    number: str
    status: str
    fill_status: str
    state: str
    version: int
    patient_id: uuid.UUID | None = Field(description="Absent in a pharmacy's view.")
    patient: PatientBrief
    prescriber: PrescriberBrief
    pharmacy: PharmacyRead
    medication: str
    medication_strength: str
    dose_form: str
    rxnorm_code: str | None
    directions: str
    notes: str | None
    quantity: float
    unit: str
    days_supply: int
    refills_allowed: int
    substitution_allowed: bool
    schedule: str
    valid_until: date
    earliest_fill_on: date | None
    total_authorised: float
    dispensed: float
    remaining: float
    fills: list[FillRead]
    dispenses: list[DispenseRead]
    history: list[EventRead]
    actions: list[str] = Field(description="What the reader may do now.")
    has_document: bool
    verification_url: str | None = Field(description="The link printed under the QR code.")
    created_at: datetime
    signed_at: datetime | None


class PrescriptionSummary(BaseModel):
    id: uuid.UUID
    number: str
    status: str
    fill_status: str
    patient_id: uuid.UUID
    pharmacy_id: uuid.UUID
    pharmacy_name: str
    medication: str
    schedule: str
    valid_until: date
    remaining: float
    created_at: datetime


class PrescriptionList(BaseModel):
    items: list[PrescriptionSummary]


class QueueItem(BaseModel):
    id: uuid.UUID
    number: str
    status: str
    fill_status: str
    version: int
    medication: str
    schedule: str
    patient: PatientBrief
    remaining: float
    unit: str
    valid_until: date
    created_at: datetime


class QueueRead(BaseModel):
    bucket: QueueBucket
    items: list[QueueItem]


class VerificationRead(BaseModel):
    """Whether a paper copy is genuine, its state and what remains; nothing else."""

    genuine: bool
    number: str
    status: str
    remaining: float
    unit: str
