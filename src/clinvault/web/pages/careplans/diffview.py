"""The service's diff laid out side by side: field changes, and the body line by line.

Pure functions. The body diff is the unified diff the service returns; here
each hunk becomes rows of (old line, new line): unchanged lines on both sides,
a run of removed lines paired with the run of added lines that follows it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from clinvault.careplans.schemas import FieldChange
from clinvault.web.pages.careplans.forms import ACTIVITY_LABELS, STATUS_LABELS

_HUNK = re.compile(r"^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@")
FIELD_LABELS = {
    "title": "Title",
    "status": "Status",
    "period_start": "Start",
    "period_end": "End",
    "goals": "Goals",
    "activities": "Activities",
    "shared_with_patient": "Shared with the patient",
}


@dataclass(frozen=True, slots=True)
class Row:
    kind: str  # "hunk", "same" or "change"
    old_number: int | None = None
    old: str | None = None
    new_number: int | None = None
    new: str | None = None


def side_by_side(unified: list[str]) -> list[Row]:
    rows: list[Row] = []
    removed: list[tuple[int, str]] = []
    added: list[tuple[int, str]] = []
    old_no = new_no = 0

    def flush() -> None:
        for index in range(max(len(removed), len(added))):
            left = removed[index] if index < len(removed) else (None, None)
            right = added[index] if index < len(added) else (None, None)
            rows.append(Row("change", left[0], left[1], right[0], right[1]))
        removed.clear()
        added.clear()

    for line in unified:
        if line.startswith(("---", "+++")) and old_no == new_no == 0:
            continue
        hunk = _HUNK.match(line)
        if hunk:
            flush()
            old_no, new_no = int(hunk.group(1)), int(hunk.group(2))
            rows.append(Row("hunk", old_no, None, new_no, None))
        elif line.startswith("-"):
            removed.append((old_no, line[1:]))
            old_no += 1
        elif line.startswith("+"):
            added.append((new_no, line[1:]))
            new_no += 1
        else:
            flush()
            text = line[1:] if line.startswith(" ") else line
            rows.append(Row("same", old_no, text, new_no, text))
            old_no += 1
            new_no += 1
    flush()
    return rows


def _text(name: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if name == "status":
        return STATUS_LABELS.get(str(value), str(value))
    if name == "shared_with_patient":
        return "Yes" if value else "No"
    if name == "goals" and isinstance(value, list):
        return "\n".join(f"• {goal}" for goal in value) or "—"
    if name == "activities" and isinstance(value, list):
        lines = []
        for item in value:
            if isinstance(item, dict):
                parts = [str(item.get("what", ""))]
                parts += [str(item[key]) for key in ("who", "when") if item.get(key)]
                status = str(item.get("status", ""))
                parts.append(ACTIVITY_LABELS.get(status, status))
                lines.append("• " + " · ".join(parts))
        return "\n".join(lines) or "—"
    return str(value)


def change_row(change: FieldChange) -> dict[str, str]:
    return {
        "label": FIELD_LABELS.get(change.field, change.field),
        "before": _text(change.field, change.before),
        "after": _text(change.field, change.after),
    }
