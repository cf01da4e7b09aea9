"""How credential pages word things: badges, category labels, problems next to a file."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from clinvault.credentials.schemas import CategoryRead, ReasonCode

STATUS_LABELS = {
    "submitted": "Submitted",
    "in_review": "In review",
    "verified": "Verified",
    "rejected": "Rejected",
    "expired": "Expired",
}

REASON_LABELS = {
    ReasonCode.ILLEGIBLE: "Illegible",
    ReasonCode.EXPIRED: "Expired",
    ReasonCode.MISMATCH_NAME: "Name does not match",
    ReasonCode.UNVERIFIABLE: "Cannot be verified",
    ReasonCode.WRONG_DOCUMENT: "Wrong document",
    ReasonCode.OTHER: "Other",
}

# Expiry badge levels: the first threshold the remaining days fall under.
EXPIRY_LEVELS = ((7, "danger"), (30, "warning"), (90, "notice"))

_FIELD_MESSAGES = {
    "category": "Choose a category from the list.",
    "issuing_authority": "Enter the issuing authority (at most 200 characters).",
    "issued_on": "Enter the issue date (YYYY-MM-DD).",
    "expires_on": "Enter the expiry date (YYYY-MM-DD).",
    "document_number": "Enter the document number (at most 64 characters).",
}


@dataclass(frozen=True, slots=True)
class Badge:
    text: str
    level: str


def badge_for_expiry(days: int | None) -> Badge | None:
    """'Expires in N days', colored from 90, 30 and 7 days on; None without an expiry."""
    if days is None:
        return None
    if days < 0:
        return Badge(f"Expired {-days} day{'s' if days != -1 else ''} ago", "danger")
    if days == 0:
        return Badge("Expires today", "danger")
    text = f"Expires in {days} day{'s' if days != 1 else ''}"
    for limit, level in EXPIRY_LEVELS:
        if days <= limit:
            return Badge(text, level)
    return Badge(text, "ok")


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status.replace("_", " ").capitalize())


def reason_label(code: str | None) -> str:
    if not code:
        return ""
    try:
        return REASON_LABELS[ReasonCode(code)]
    except ValueError:
        return code


def category_labels(categories: Iterable[CategoryRead]) -> dict[str, str]:
    return {category.code: category.label for category in categories}


def template_helpers() -> dict[str, Any]:
    """The wording helpers every credential template uses."""
    return {
        "status_label": status_label,
        "reason_label": reason_label,
        "expiry_badge": badge_for_expiry,
    }


def field_message(code: str, detail: str) -> str:
    """A file problem as shown next to the file; metadata errors name the form field."""
    if code == "metadata_invalid":
        field = detail.split(":", 1)[0].split(".")[-1]
        return _FIELD_MESSAGES.get(field, detail)
    return detail
