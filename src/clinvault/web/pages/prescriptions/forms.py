"""The prescription form: field names, the request body it becomes, messages per field.

Also the allergy check the form shows: a medication whose name shares a word
with one of the patient's recorded allergies must be acknowledged before the
draft is saved. The check is a warning for the prescriber, not a rule of the
prescription service.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from clinvault.errors import AppError

FIELDS = (
    "prescriber_id",
    "pharmacy_id",
    "pharmacy_q",
    "medication_name",
    "medication_strength",
    "dose_form",
    "rxnorm_code",
    "directions",
    "quantity",
    "unit",
    "days_supply",
    "refills_allowed",
    "substitution_allowed",
    "schedule",
    "notes",
    "valid_until",
    "earliest_fill_on",
    "allergy_acknowledged",
)
DEFAULTS = {"refills_allowed": "0", "schedule": "none", "substitution_allowed": "yes"}
# Where a problem of the request body is shown on the form.
BODY_TO_FORM = {
    "medication.name": "medication_name",
    "medication.strength": "medication_strength",
    "medication.dose_form": "dose_form",
    "medication.rxnorm_code": "rxnorm_code",
    "medication": "medication_name",
    "patient_id": "form",
}
MESSAGES = {
    "pharmacy_id": "Choose a pharmacy: search by name or city, then pick one from the list.",
    "prescriber_id": "Choose the doctor who will sign this prescription.",
    "quantity": "Enter a quantity above zero, with at most three decimals (like 30 or 2.5).",
    "days_supply": "Enter the days' supply as a whole number from 1 to 365.",
    "refills_allowed": "Enter the number of refills as a whole number from 0 to 11.",
    "rxnorm_code": "An RxNorm code has digits only (up to 10); leave it empty if unknown.",
    "valid_until": "Enter the last day it may be filled as a date (YYYY-MM-DD), or leave it empty.",
    "earliest_fill_on": "Enter the first fill day as a date (YYYY-MM-DD), or leave it empty.",
    "unit": "Choose the unit of the quantity.",
    "schedule": "Choose the DEA schedule, or “none”.",
}
MAX_FIELD = 5_000
_SPLIT = re.compile(r"[,;/\n\r]+|\band\b", re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9]+")
_NOT_ALLERGIES = frozenset({"none", "nka", "nkda", "no", "known", "allergies", "unknown", "n/a"})


def body(values: Mapping[str, str], patient_id: uuid.UUID) -> dict[str, Any]:
    """The JSON body of `POST /api/prescriptions/` that the form's values describe."""
    medication: dict[str, Any] = {
        "name": values["medication_name"],
        "strength": values["medication_strength"],
        "dose_form": values["dose_form"],
    }
    if values["rxnorm_code"]:
        medication["rxnorm_code"] = values["rxnorm_code"]
    data: dict[str, Any] = {
        "patient_id": str(patient_id),
        "pharmacy_id": values["pharmacy_id"] or None,
        "medication": medication,
        "directions": values["directions"],
        "quantity": values["quantity"] or None,
        "unit": values["unit"] or None,
        "days_supply": values["days_supply"] or None,
        "refills_allowed": values["refills_allowed"] or "0",
        "substitution_allowed": values["substitution_allowed"] == "yes",
        "schedule": values["schedule"] or "none",
    }
    if values["prescriber_id"]:
        data["prescriber_id"] = values["prescriber_id"]
    for optional in ("notes", "valid_until", "earliest_fill_on"):
        if values[optional]:
            data[optional] = values[optional]
    return data


def _sentence(message: str) -> str:
    text = message.removeprefix("Value error, ").strip() or "Check this value"
    text = text[0].upper() + text[1:]
    return text if text.endswith(".") else text + "."


def validation_errors(error: ValidationError, values: Mapping[str, str]) -> dict[str, str]:
    """One message per form field of a failed validation of `body(values)`."""
    found: dict[str, str] = {}
    for item in error.errors():
        path = ".".join(str(part) for part in item["loc"])
        field = BODY_TO_FORM.get(path, path.split(".")[0])
        if field in found:
            continue
        if field in values and not values[field]:
            found[field] = MESSAGES.get(field, "Fill in this field.") if field in (
                "pharmacy_id", "prescriber_id", "unit"
            ) else "Fill in this field."  # fmt: skip
        else:
            found[field] = MESSAGES.get(field) or _sentence(str(item["msg"]))
    return found


def service_errors(error: AppError) -> dict[str, str]:
    """The form fields a service refusal names, each with the refusal's message."""
    found: dict[str, str] = {}
    items = error.errors or []
    for item in items:
        field = str(item.get("field") or "")
        if not field:
            continue
        field = BODY_TO_FORM.get(field, field)
        if field not in found:
            found[field] = error.detail if len(items) == 1 else _sentence(str(item["message"]))
    return found


def clip(text: str) -> str:
    return text.strip()[:MAX_FIELD]


# allergies


def allergy_terms(recorded: str | None) -> list[str]:
    """The separate allergies of a chart's free-text field ("Penicillin; latex" -> two)."""
    if not recorded:
        return []
    terms: list[str] = []
    for part in _SPLIT.split(recorded):
        term = " ".join(part.split()).strip(" .")
        words = set(_WORD.findall(term.casefold()))
        if term and words and not words <= _NOT_ALLERGIES and term not in terms:
            terms.append(term)
    return terms


def matching_allergies(medication: str, terms: list[str]) -> list[str]:
    """The recorded allergies the medication's name matches.

    A match is a word of three letters or more shared by both (case and
    punctuation aside), or a word of four letters or more starting the other: "Penicillin" matches
    "Penicillin V potassium", "sulfa" matches "sulfamethoxazole".
    """
    name = medication.casefold()
    name_words = {w for w in _WORD.findall(name) if len(w) >= 3}
    if not name_words:
        return []
    found: list[str] = []
    for term in terms:
        folded = term.casefold()
        words = {w for w in _WORD.findall(folded) if len(w) >= 3}
        shared = words & name_words
        prefix = any(
            min(len(w), len(n)) >= 4 and (n.startswith(w) or w.startswith(n))
            for w in words
            for n in name_words
        )
        if shared or prefix:
            found.append(term)
    return found
