"""Request and response bodies of the patients API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    EmailStr,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from clinvault.inputs import SingleLine
from clinvault.records.pagination import Page
from clinvault.records.phones import ALLOWED as PHONE_CHARACTERS
from clinvault.records.schemas import AddressText, LongText, RequestBody, ShortText

BloodType = Literal["A+", "A-", "B+", "B-", "AB+", "AB-", "O+", "O-"]
GenderName = Literal["female", "male", "other", "unknown"]
BLOOD_TYPES: tuple[str, ...] = get_args(BloodType)
GENDERS: tuple[str, ...] = get_args(GenderName)


def _gender_lower(value: object) -> object:
    """ "Male", "FEMALE" (the records-platform design's spelling) are stored lower case."""
    return value.strip().lower() if isinstance(value, str) else value


Gender = Annotated[GenderName, BeforeValidator(_gender_lower)]
EARLIEST_BIRTH_DATE = date(1900, 1, 1)

Mrn = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9-]*$"
    ),
]
Ssn = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{3}-?[0-9]{2}-?[0-9]{4}$")
]
Phone = Annotated[str, SingleLine(32, min_length=4)]

REQUIRED_FIELDS = ("first_name", "last_name", "date_of_birth", "gender", "mrn")


def _check_birth_date(value: date | None) -> date | None:
    if value is None:
        return None
    if value > date.today():
        raise ValueError("the date of birth must not be in the future")
    if value < EARLIEST_BIRTH_DATE:
        raise ValueError(f"the date of birth must be on or after {EARLIEST_BIRTH_DATE}")
    return value


def _check_phone(value: str | None) -> str | None:
    if value is not None and not PHONE_CHARACTERS.fullmatch(value):
        raise ValueError("use E.164 (+15550100199) or a national format such as (555) 010-0199")
    return value


class PatientFields(RequestBody):
    phone: Phone | None = Field(
        default=None,
        description="E.164 (+15550100199) or national format, stored as E.164.",
    )
    email: EmailStr | None = None
    address: AddressText | None = None
    blood_type: BloodType | None = None
    allergies: LongText | None = None
    emergency_contact: AddressText | None = None
    ssn: Ssn | None = Field(
        default=None, description="Write-only: stored encrypted, read back as ssn_last4."
    )

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return _check_phone(value)


class PatientCreate(PatientFields):
    mrn: Mrn | None = Field(default=None, description="Generated (8 digits) when absent.")
    first_name: ShortText
    last_name: ShortText
    date_of_birth: date
    gender: Gender

    @field_validator("date_of_birth")
    @classmethod
    def _birth(cls, value: date) -> date:
        checked = _check_birth_date(value)
        assert checked is not None
        return checked


class PatientUpdate(PatientFields):
    """Only the fields sent are changed; `null` clears an optional field."""

    mrn: Mrn | None = None
    first_name: ShortText | None = None
    last_name: ShortText | None = None
    date_of_birth: date | None = None
    gender: Gender | None = None
    user_id: uuid.UUID | None = Field(
        default=None, description="Link the patient's own account (null unlinks)."
    )

    @field_validator("date_of_birth")
    @classmethod
    def _birth(cls, value: date | None) -> date | None:
        return _check_birth_date(value)

    @model_validator(mode="after")
    def _required_stay_set(self) -> PatientUpdate:
        cleared = [
            name
            for name in REQUIRED_FIELDS
            if name in self.model_fields_set and getattr(self, name) is None
        ]
        if cleared:
            raise ValueError(f"these fields cannot be cleared: {', '.join(cleared)}")
        return self


class PatientUserLink(RequestBody):
    user_id: uuid.UUID | None = Field(description="A patient account of your organization.")


class DuplicateQuery(RequestBody):
    """A patient about to be registered: who may they already be?"""

    first_name: ShortText
    last_name: ShortText
    date_of_birth: date | None = None
    phone: Phone | None = None


class PatientRead(BaseModel):
    id: uuid.UUID
    mrn: str
    first_name: str
    last_name: str
    date_of_birth: date | None = Field(
        description="Unknown (null) for a patient created by a CSV import that had none."
    )
    gender: str
    phone: str | None
    email: str | None
    address: str | None
    blood_type: str | None
    allergies: str | None
    emergency_contact: str | None
    ssn_last4: str | None
    user_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


PatientPage = Page[PatientRead]


class PatientSearchPage(Page[PatientRead]):
    total_exact: bool = Field(
        default=True,
        description="False when the search matched more patients than it counts (1,000): "
        "`total` is then a lower bound; refine the query to narrow the results.",
    )


class LikelyDuplicate(BaseModel):
    patient: PatientRead
    reasons: list[str] = Field(
        description="'same name and date of birth' and/or 'same phone number'."
    )


class LikelyDuplicates(BaseModel):
    items: list[LikelyDuplicate] = Field(description="At most 5, in registration order.")
