"""The upload form's own checks: every problem of a row, in words, on its own field."""

from __future__ import annotations

from datetime import date

from clinvault.credentials.schemas import CategoryRead
from clinvault.web.pages.credentials_checks import (
    category_rules,
    check_row,
    place_problems,
)
from clinvault.web.pages.credentials_form import FormRow

TODAY = date(2026, 12, 7)
LIMIT = 20 * 1024 * 1024
RULES = category_rules(
    [
        CategoryRead(
            code="medical_license",
            label="Medical license",
            requires_expiry=True,
            allowed_kinds=["pdf"],
            built_in=True,
        ),
        CategoryRead(
            code="curriculum_vitae",
            label="Curriculum vitae",
            requires_expiry=False,
            allowed_kinds=["pdf", "docx"],
            built_in=True,
        ),
    ]
)


def typed(**values: str) -> FormRow:
    row = FormRow(0)
    row.values = {
        "category": "medical_license",
        "issuing_authority": "Board",
        "document_number": "MD-1",
        "issued_on": "2020-01-01",
        "expires_on": "2030-01-01",
        **values,
    }
    row.filename = "license.pdf"
    row.too_large = False
    return row


def checked(row: FormRow) -> dict[str, str]:
    check_row(row, RULES, TODAY, LIMIT)
    return row.field_errors


def test_the_picker_offers_only_the_category_types() -> None:
    assert RULES["medical_license"].accept == ".pdf,application/pdf"
    assert ".docx" in RULES["curriculum_vitae"].accept
    assert RULES["curriculum_vitae"].kinds_text == "PDF or Word (.docx)"
    assert not RULES["curriculum_vitae"].needs_number


def test_every_problem_of_a_row_at_once_each_on_its_field() -> None:
    errors = checked(typed(issued_on="2027-01-01", expires_on="2026-06-01", document_number=""))
    assert errors == {
        "file": "Choose the file of this document.",
        "document_number": "Enter the document number.",
        "issued_on": "Issue date is in the future: enter the date printed on the document.",
        "expires_on": "Expiry date is before the issue date: check both dates.",
    }


def test_the_cv_needs_no_number_and_no_expiry() -> None:
    row = typed(category="curriculum_vitae", document_number="", expires_on="")
    row.too_large = True  # stands for a file that was sent (and dropped)
    assert checked(row) == {
        "file": "license.pdf is larger than the 20 MB limit: choose a smaller file (a scan at "
        "a lower resolution, or fewer pages)."
    }


def test_an_expired_document_needs_the_confirmation() -> None:
    row = typed(expires_on="2026-01-01")
    row.too_large = True
    assert checked(row)["expires_on"].startswith("This document expired on 2026-01-01")
    assert row.values["show_confirm_expired"] == "1"
    confirmed = typed(expires_on="2026-01-01", confirm_expired="1")
    confirmed.too_large = True
    assert "expires_on" not in checked(confirmed)


def test_dates_that_are_not_dates_and_text_that_is_not_one_line() -> None:
    errors = checked(typed(issued_on="31/12/2020", expires_on="", issuing_authority="a\nb"))
    assert errors["issued_on"] == "Enter the issue date as a date, for example 2024-03-31."
    assert errors["expires_on"] == "Enter the expiry date: a medical license has one."
    assert errors["issuing_authority"].startswith("Enter the issuing authority")


def test_the_service_problems_are_worded_and_placed() -> None:
    row = typed()
    place_problems(
        row,
        [
            {"code": "dea_number_invalid", "detail": "The DEA number fails its check digit."},
            {"code": "type_not_allowed", "detail": "The file is not a PDF."},
            {"code": "metadata_invalid", "detail": "metadata[0].issued_on: invalid date"},
        ],
    )
    assert row.field_errors == {
        "document_number": "This DEA number fails its check digit: copy it again from the "
        "registration.",
        "file": "The file is not a PDF.",
        "issued_on": "Enter the issue date as a date, for example 2024-03-31.",
    }
