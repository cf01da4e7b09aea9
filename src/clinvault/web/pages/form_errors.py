"""Plain-word messages for the staff forms of patients, records and appointments.

A validation failure becomes one message per field, all fields at once, in
words a receptionist or a nurse reads without knowing the API: never a field
name such as `date_of_birth` nor a regular expression. Each form names its
fields' wording below; a field left empty gets its "missing" sentence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import ValidationError


@dataclass(frozen=True, slots=True)
class Wording:
    missing: str
    invalid: str
    # Whether the validator's own sentence (a `ValueError` of ours) may be shown instead.
    own_sentences: bool = False


PATIENT = {
    "first_name": Wording("Enter the first name.", "Enter a first name of up to 100 characters."),
    "last_name": Wording("Enter the last name.", "Enter a last name of up to 100 characters."),
    "date_of_birth": Wording(
        "Enter the date of birth.",
        "Enter the date of birth as a real date, for example 1980-02-29.",
        own_sentences=True,
    ),
    "gender": Wording("Choose a gender.", "Choose a gender from the list."),
    "mrn": Wording(
        "Enter a medical record number, or leave it empty to have one generated.",
        "A medical record number has up to 32 letters, digits and dashes, and starts with "
        "a letter or a digit.",
    ),
    "phone": Wording(
        "Enter a phone number.",
        "Enter a phone number such as +1 555 010 0199 or (555) 010-0199.",
    ),
    "email": Wording(
        "Enter an email address.", "Enter a valid email address, like name@example.org."
    ),
    "address": Wording("Enter an address.", "Enter an address of up to 500 characters."),
    "blood_type": Wording("Choose a blood type.", "Choose a blood type from the list."),
    "allergies": Wording("Enter the allergies.", "Enter allergies in up to 4,000 characters."),
    "emergency_contact": Wording(
        "Enter an emergency contact.", "Enter an emergency contact of up to 500 characters."
    ),
    "ssn": Wording(
        "Enter the social security number.",
        "Enter the social security number as 9 digits, with or without dashes.",
    ),
}

RECORD = {
    "record_type": Wording("Choose the type of record.", "Choose a type from the list."),
    "priority": Wording("Choose a priority.", "Choose a priority from the list."),
    "title": Wording("Enter a title.", "Enter a title of up to 500 characters on one line."),
    "content": Wording("Enter what to record.", "The content is too long."),
    "recorded_at": Wording(
        "Enter when it was observed.",
        "Enter a date and time that is not in the future.",
    ),
}

APPOINTMENT = {
    "practitioner_id": Wording(
        "Choose the doctor or nurse to see.", "Choose a doctor or nurse from the list."
    ),
    "day": Wording("Enter the date.", "Enter the date as a real date, for example 2030-05-01."),
    "start": Wording("Enter the start time.", "Enter the start time as hours and minutes, 09:30."),
    "minutes": Wording("Choose a duration.", "Choose a duration from the list."),
    "reason": Wording("Enter the reason.", "Enter a reason of up to 500 characters on one line."),
    "why": Wording("Say why.", "Give the reason in up to 500 characters on one line."),
}

FALLBACK = Wording("Fill in this field.", "Check this value.")


def _sentence(message: str) -> str:
    text = message.removeprefix("Value error, ").strip()
    if not text:
        return FALLBACK.invalid
    text = text[0].upper() + text[1:]
    return text if text.endswith(".") else text + "."


def plain_errors(
    error: ValidationError, values: Mapping[str, str], wording: Mapping[str, Wording]
) -> dict[str, str]:
    """One plain message per field of a failed validation, every field at once."""
    found: dict[str, str] = {}
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else "form"
        if field in found:
            continue
        words = wording.get(field, FALLBACK)
        if field in values and not values[field]:
            found[field] = words.missing
        elif words.own_sentences and item.get("type") == "value_error":
            found[field] = _sentence(str(item["msg"]))
        else:
            found[field] = words.invalid
    return found


def missing(
    values: Mapping[str, str], required: tuple[str, ...], wording: Mapping[str, Wording]
) -> dict[str, str]:
    """The 'missing' message of each required field left empty."""
    return {name: wording.get(name, FALLBACK).missing for name in required if not values.get(name)}
