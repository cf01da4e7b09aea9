"""Prescribing rules that do not need the database: quantities, schedules, validity.

Each refusal names the field and the rule and says how to fix the request.
Controlled-substance limits (21 CFR 1306): schedule II has no refills and may
carry an earliest-fill date so that several prescriptions cover at most 90
days; schedules III and IV allow at most 5 refills and nothing after 6 months
from issue; schedule V follows the organization's policy (same default).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from clinvault.errors.prescriptions import (
    PrescriptionQuantityInvalid,
    PrescriptionRuleViolated,
)
from clinvault.prescriptions.schemas import WHOLE_UNITS

MILLI = 1000
CONTROLLED = frozenset({"II", "III", "IV", "V"})
SCHEDULE_II_MAX_DAYS = 90
SCHEDULE_III_IV_MAX_REFILLS = 5
SCHEDULE_III_IV_MAX_DAYS = 183  # six months from issue


@dataclass(frozen=True, slots=True)
class PrescribingPolicy:
    """An organization's defaults (the `prescription_policies` row, else these)."""

    default_validity_days: int = 365
    schedule_v_max_refills: int = SCHEDULE_III_IV_MAX_REFILLS
    schedule_v_max_days: int = SCHEDULE_III_IV_MAX_DAYS


def field_error(field: str, message: str, location: str = "body") -> list[dict[str, str]]:
    return [{"field": field, "in": location, "message": message}]


def to_milli(quantity: Decimal, unit: str, field: str = "quantity") -> int:
    """Thousandths of the unit; a fraction of a whole unit (a tablet) is refused."""
    if quantity <= 0:
        raise PrescriptionQuantityInvalid(
            f"{field} must be more than zero.", errors=field_error(field, "must be > 0")
        )
    if unit in WHOLE_UNITS and quantity != quantity.to_integral_value():
        raise PrescriptionQuantityInvalid(
            f"{field} must be a whole number of {unit}s: a {unit} cannot be split. "
            "Send e.g. 30, not 30.5.",
            errors=field_error(field, f"whole {unit}s only"),
        )
    milli = quantity * MILLI
    if milli != milli.to_integral_value():
        raise PrescriptionQuantityInvalid(
            f"{field} has more than three decimal places.",
            errors=field_error(field, "at most 3 decimal places"),
        )
    return int(milli)


def from_milli(value: int) -> float:
    return value / MILLI


def format_quantity(value: int) -> str:
    text = f"{Decimal(value) / MILLI:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def max_days(schedule: str, policy: PrescribingPolicy) -> int | None:
    if schedule in ("III", "IV"):
        return SCHEDULE_III_IV_MAX_DAYS
    if schedule == "V":
        return policy.schedule_v_max_days
    return None


def check_schedule(
    *,
    schedule: str,
    refills: int,
    days_supply: int,
    issued_on: date,
    valid_until: date | None,
    earliest_fill_on: date | None,
    policy: PrescribingPolicy,
) -> date:
    """Check the schedule's limits; return the valid-until date to store."""
    if schedule == "II" and refills:
        raise PrescriptionRuleViolated(
            "Schedule II prescriptions allow no refills: set refills_allowed to 0 and write "
            "a new prescription (with an earliest_fill_on date) for each further supply.",
            errors=field_error("refills_allowed", "schedule II: must be 0"),
        )
    limit = SCHEDULE_III_IV_MAX_REFILLS if schedule in ("III", "IV") else None
    if schedule == "V":
        limit = policy.schedule_v_max_refills
    if limit is not None and refills > limit:
        raise PrescriptionRuleViolated(
            f"Schedule {schedule} allows at most {limit} refills: lower refills_allowed.",
            errors=field_error("refills_allowed", f"schedule {schedule}: at most {limit}"),
        )
    if earliest_fill_on is not None:
        if schedule != "II":
            raise PrescriptionRuleViolated(
                "earliest_fill_on is for schedule II prescriptions only: leave it out.",
                errors=field_error("earliest_fill_on", "schedule II only"),
            )
        if earliest_fill_on < issued_on:
            raise PrescriptionRuleViolated(
                "earliest_fill_on must not be before today.",
                errors=field_error("earliest_fill_on", "in the past"),
            )
        covered = (earliest_fill_on - issued_on).days + days_supply
        if covered > SCHEDULE_II_MAX_DAYS:
            raise PrescriptionRuleViolated(
                f"Schedule II prescriptions issued together may cover at most "
                f"{SCHEDULE_II_MAX_DAYS} days: earliest_fill_on plus days_supply reaches "
                f"{covered} days from today.",
                errors=field_error("earliest_fill_on", f"covers {covered} > 90 days"),
            )
    cap = max_days(schedule, policy)
    if valid_until is None:
        days = (
            policy.default_validity_days if cap is None else min(cap, policy.default_validity_days)
        )
        return issued_on + timedelta(days=days)
    if valid_until < issued_on:
        raise PrescriptionRuleViolated(
            "valid_until is in the past: give today or a later date.",
            errors=field_error("valid_until", "in the past"),
        )
    if cap is not None and valid_until > issued_on + timedelta(days=cap):
        raise PrescriptionRuleViolated(
            f"Schedule {schedule} prescriptions may not be filled more than {cap} days after "
            f"issue: set valid_until on or before {issued_on + timedelta(days=cap)}.",
            errors=field_error("valid_until", f"schedule {schedule}: at most {cap} days"),
        )
    if earliest_fill_on is not None and earliest_fill_on > valid_until:
        raise PrescriptionRuleViolated(
            "earliest_fill_on is after valid_until: it could never be filled.",
            errors=field_error("earliest_fill_on", "after valid_until"),
        )
    return valid_until
