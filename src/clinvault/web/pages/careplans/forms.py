"""The care-plan form: its fields, the request body they become, messages per field.

Goals are one per line of a text area; activities are rows of four fields
(what, who, when, status), with a few blank rows to add more. Without
JavaScript, "Add activity rows" re-renders the form with the typed values and
more blank rows, so nothing is lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from clinvault.careplans.schemas import MAX_ACTIVITIES, MAX_BODY, MAX_GOALS, ContentRead
from clinvault.careplans.states import ActivityStatus, PlanStatus
from clinvault.errors import AppError

FIELDS = ("patient_id", "title", "status", "period_start", "period_end", "goals", "body")
ACTIVITY_FIELDS = ("what", "who", "when", "status")
BLANK_ROWS = 2
# A form carries at most 200 fields (csrf.py): 40 rows of four keep well within it.
MAX_ROWS = 40
STATUS_LABELS = {
    "draft": "Draft",
    "active": "Active",
    "on_hold": "On hold",
    "completed": "Completed",
    "revoked": "Revoked",
}
ACTIVITY_LABELS = {
    "not_started": "Not started",
    "scheduled": "Scheduled",
    "in_progress": "In progress",
    "on_hold": "On hold",
    "completed": "Completed",
    "cancelled": "Cancelled",
}
PLAN_STATUSES = tuple(status.value for status in PlanStatus)
ACTIVITY_STATUSES = tuple(status.value for status in ActivityStatus)
MESSAGES = {
    "title": "Enter a title (up to 200 characters, on one line).",
    "patient_id": "Choose the patient this plan is for.",
    "period_start": "Enter the start as a date (YYYY-MM-DD), or leave it empty.",
    "period_end": "Enter the end as a date (YYYY-MM-DD) on or after the start, or leave it empty.",
    "goals": f"Write at most {MAX_GOALS} goals, one per line, each up to 500 characters.",
    "activities": (
        f"Each activity needs a description (“what”); at most {MAX_ACTIVITIES} activities, "
        "500 characters each."
    ),
    "body": f"The plan's text is at most {MAX_BODY} characters.",
    "status": "Choose one of the statuses.",
}


def clip(text: str, limit: int = 500) -> str:
    return text.strip()[:limit]


def blank_row() -> dict[str, str]:
    return {"what": "", "who": "", "when": "", "status": ActivityStatus.NOT_STARTED.value}


def padded(rows: list[dict[str, str]], extra: int = BLANK_ROWS) -> list[dict[str, str]]:
    """The activity rows shown: the filled ones and a few blank ones."""
    shown = [*rows, *(blank_row() for _ in range(extra))]
    return shown[: max(MAX_ROWS, len(rows))]


def blank_values(patient_id: str = "") -> dict[str, Any]:
    values: dict[str, Any] = dict.fromkeys(FIELDS, "")
    values.update(patient_id=patient_id, status=PlanStatus.DRAFT.value, shared_with_patient="")
    values["activities"] = padded([], 3)
    return values


def values_of(plan: ContentRead) -> dict[str, Any]:
    """The form's values for a version's content (the edit form)."""
    rows = [
        {
            "what": item.what,
            "who": item.who or "",
            "when": item.when or "",
            "status": item.status.value,
        }
        for item in plan.activities
    ]
    return {
        "patient_id": "",
        "title": plan.title,
        "status": plan.status.value,
        "period_start": "" if plan.period_start is None else plan.period_start.isoformat(),
        "period_end": "" if plan.period_end is None else plan.period_end.isoformat(),
        "goals": "\n".join(plan.goals),
        "body": plan.body,
        "shared_with_patient": "yes" if plan.shared_with_patient else "",
        "activities": padded(rows),
    }


def read_form(form: Any, *, extra_rows: int = 0) -> dict[str, Any]:
    """The typed values of a posted form, as shown again when it is refused."""
    values: dict[str, Any] = {name: clip(form.get(name)) for name in FIELDS}
    values["goals"] = form.get("goals").strip()[: MAX_GOALS * 510]
    values["body"] = form.get("body").replace("\r\n", "\n")[: MAX_BODY + 1]
    values["shared_with_patient"] = "yes" if form.get("shared_with_patient") == "yes" else ""
    columns = {name: form.get_all(f"activity_{name}") for name in ACTIVITY_FIELDS}
    rows: list[dict[str, str]] = []
    for index in range(min(len(columns["what"]), MAX_ROWS)):
        row = {
            name: clip(columns[name][index]) if index < len(columns[name]) else ""
            for name in ACTIVITY_FIELDS
        }
        if row["what"] or row["who"] or row["when"]:
            rows.append(row)
    values["activities"] = padded(rows, BLANK_ROWS + extra_rows)
    return values


def body(values: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON body of a create or update that the form's values describe."""
    data: dict[str, Any] = {
        "title": values["title"],
        "status": values["status"] or PlanStatus.DRAFT.value,
        "goals": [line.strip() for line in str(values["goals"]).splitlines() if line.strip()],
        "activities": [
            {
                "what": row["what"],
                "who": row["who"] or None,
                "when": row["when"] or None,
                "status": row["status"] or ActivityStatus.NOT_STARTED.value,
            }
            for row in values["activities"]
            if row["what"] or row["who"] or row["when"]
        ],
        "body": values["body"],
        "shared_with_patient": values["shared_with_patient"] == "yes",
    }
    for optional in ("period_start", "period_end"):
        data[optional] = values[optional] or None
    if values.get("patient_id"):
        data["patient_id"] = values["patient_id"]
    return data


def validation_errors(error: ValidationError) -> dict[str, str]:
    """One message per form field of a failed validation."""
    found: dict[str, str] = {}
    for item in error.errors():
        location = [str(part) for part in item["loc"]]
        field = location[0] if location else "form"
        if not location or field not in MESSAGES:
            field = "period_end" if "period" in str(item["msg"]) else "form"
        found.setdefault(field, MESSAGES.get(field, "Check the values of this form."))
    return found


def service_errors(error: AppError) -> dict[str, str]:
    """The fields a service refusal names, with its message; "form" for the rest."""
    found: dict[str, str] = {}
    for item in error.errors or []:
        field = str(item.get("field") or "")
        if field in MESSAGES:
            found.setdefault(field, error.detail)
    if not found:
        found["form"] = error.detail
    return found
