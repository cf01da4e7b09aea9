"""The upload form's own checks, in plain words, each next to the field it is about.

Every row is checked whole before anything is sent on, so that every problem
of the form shows at once: a missing or over-large file, a missing field, a
date that is not a date, an issue date in the future, an expiry before the
issue, a number the category needs, and an expired document sent without the
confirmation box. The credentials service checks all of it again (and the
files' real bytes); its answers are worded the same way by `place_problems`.
The browser runs the same checks first (static/upload.js), from the limits
and category rules this module also gives the page (`category_rules`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from clinvault.credentials.categories import CURRICULUM_VITAE
from clinvault.credentials.schemas import CategoryRead
from clinvault.inputs import EARLIEST_DATE, LATEST_DATE
from clinvault.web.pages.credentials_form import FormRow

MIB = 1024 * 1024

# What the file picker offers for each kind the server accepts (it checks the bytes).
ACCEPT_BY_KIND = {
    "pdf": (".pdf", "application/pdf"),
    "jpeg": (".jpg", ".jpeg", "image/jpeg"),
    "png": (".png", "image/png"),
    "docx": (".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
}
KIND_NAMES = {"pdf": "PDF", "jpeg": "JPEG", "png": "PNG", "docx": "Word (.docx)"}
EXTENSIONS_BY_KIND = {
    "pdf": (".pdf",),
    "jpeg": (".jpg", ".jpeg"),
    "png": (".png",),
    "docx": (".docx",),
}

LABELS = {
    "category": "Category",
    "issuing_authority": "Issuing authority",
    "document_number": "Document number",
    "issued_on": "Issue date",
    "expires_on": "Expiry date",
    "file": "File",
}

# The service's problem codes, by the field they are about (anything else: the file).
_FIELD_OF_CODE = {
    "category_unknown": "category",
    "issued_in_future": "issued_on",
    "expiry_required": "expires_on",
    "expiry_before_issue": "expires_on",
    "document_number_required": "document_number",
    "dea_number_invalid": "document_number",
}
_WORDS_OF_CODE = {
    "category_unknown": "Choose a category from the list.",
    "issued_in_future": "Issue date is in the future: enter the date printed on the document.",
    "expiry_required": "Enter the expiry date printed on the document.",
    "expiry_before_issue": "Expiry date is before the issue date: check both dates.",
    "document_number_required": "Enter the document number printed on the document.",
    "dea_number_invalid": "This DEA number fails its check digit: copy it again from the "
    "registration.",
}
_WORDS_OF_FIELD = {
    "category": "Choose a category from the list.",
    "issuing_authority": "Enter the issuing authority, at most 200 characters on one line.",
    "issued_on": "Enter the issue date as a date, for example 2024-03-31.",
    "expires_on": "Enter the expiry date as a date, for example 2027-03-31.",
    "document_number": "Enter the document number, at most 64 characters on one line.",
}


@dataclass(frozen=True, slots=True)
class CategoryRule:
    """What a category needs, for the page (data attributes) and the checks."""

    code: str
    label: str
    requires_expiry: bool
    needs_number: bool
    kinds: tuple[str, ...]

    @property
    def accept(self) -> str:
        return ",".join(item for kind in self.kinds for item in ACCEPT_BY_KIND.get(kind, ()))

    @property
    def kinds_text(self) -> str:
        names = [KIND_NAMES.get(kind, kind.upper()) for kind in self.kinds]
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]

    @property
    def extensions(self) -> tuple[str, ...]:
        return tuple(ext for kind in self.kinds for ext in EXTENSIONS_BY_KIND.get(kind, ()))


def category_rules(categories: Iterable[CategoryRead]) -> dict[str, CategoryRule]:
    return {
        category.code: CategoryRule(
            code=category.code,
            label=category.label,
            requires_expiry=category.requires_expiry,
            needs_number=category.code != CURRICULUM_VITAE,
            kinds=tuple(category.allowed_kinds),
        )
        for category in categories
    }


def size_text(limit: int) -> str:
    return f"{limit / MIB:g} MB" if limit >= MIB else f"{limit} bytes"


def _date(row: FormRow, name: str) -> tuple[date | None, bool]:
    """The field's date and whether it was filled at all."""
    text = row.value(name).strip()
    if not text:
        return None, False
    try:
        value = date.fromisoformat(text)
    except ValueError:
        row.refuse(name, _WORDS_OF_FIELD[name])
        return None, True
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        row.refuse(name, f"{LABELS[name]} {text} is not a plausible date: check the year.")
        return None, True
    return value, True


def _text(row: FormRow, name: str, limit: int, *, required: bool) -> None:
    text = row.value(name)
    if required and not text.strip():
        row.refuse(name, f"Enter the {LABELS[name].lower()}.")
    elif len(text) > limit or any(ord(char) < 0x20 or ord(char) == 0x7F for char in text):
        row.refuse(name, _WORDS_OF_FIELD[name])


def check_file(row: FormRow, rule: CategoryRule | None, max_file_bytes: int) -> None:
    if row.too_large:
        row.refuse(
            "file",
            f"{row.filename or 'This file'} is larger than the {size_text(max_file_bytes)} "
            "limit: choose a smaller file (a scan at a lower resolution, or fewer pages).",
        )
    elif not row.has_file and row.held is None:
        row.refuse("file", "Choose the file of this document.")
    elif rule is not None and row.has_file and row.filename:
        name = row.filename.lower()
        if rule.extensions and not name.endswith(rule.extensions):
            row.refuse(
                "file",
                f"A {rule.label.lower()} must be a {rule.kinds_text} file: choose one, or "
                "change the category.",
            )


def check_row(
    row: FormRow, rules: dict[str, CategoryRule], today: date, max_file_bytes: int
) -> None:
    """Every problem of one row, each on its own field."""
    rule = rules.get(row.value("category").strip())
    if rule is None:
        row.refuse("category", _WORDS_OF_FIELD["category"])
    check_file(row, rule, max_file_bytes)
    _text(row, "issuing_authority", 200, required=True)
    _text(row, "document_number", 64, required=rule is not None and rule.needs_number)
    issued, _ = _date(row, "issued_on")
    if not row.value("issued_on").strip():
        row.refuse("issued_on", "Enter the issue date.")
    elif issued is not None and issued > today:
        row.refuse("issued_on", _WORDS_OF_CODE["issued_in_future"])
    expires, given = _date(row, "expires_on")
    if not given and rule is not None and rule.requires_expiry:
        row.refuse("expires_on", f"Enter the expiry date: a {rule.label.lower()} has one.")
    elif expires is not None and issued is not None and expires <= issued:
        row.refuse("expires_on", _WORDS_OF_CODE["expiry_before_issue"])
    elif expires is not None and expires < today and not row.value("confirm_expired"):
        row.refuse(
            "expires_on",
            f"This document expired on {expires.isoformat()}: upload the current one, or tick "
            "the box below to send the expired one anyway.",
        )
        row.values["show_confirm_expired"] = "1"


def check_rows(
    rows: Iterable[FormRow], rules: dict[str, CategoryRule], today: date, max_file_bytes: int
) -> bool:
    """Check every row; True when none has a problem."""
    clean = True
    for row in rows:
        check_row(row, rules, today, max_file_bytes)
        clean = clean and not row.invalid
    return clean


def _field_of(code: str) -> str:
    return _FIELD_OF_CODE.get(code, "file" if code != "metadata_invalid" else "")


def place_problems(row: FormRow, problems: Iterable[dict[str, str]]) -> None:
    """The service's problems of one file, worded and put next to their fields."""
    for problem in problems:
        code, detail = problem.get("code", ""), problem.get("detail", "")
        if code == "metadata_invalid":
            name = detail.split(":", 1)[0].split(".")[-1]
            row.refuse(name if name in LABELS else "file", _WORDS_OF_FIELD.get(name, detail))
            continue
        name = _field_of(code)
        words = _WORDS_OF_CODE.get(code, detail)
        if name == "file" and "file" in row.field_errors:
            row.field_errors["file"] += " " + words
        else:
            row.refuse(name, words)
