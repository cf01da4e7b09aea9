"""Pure rules of credential intake: review dates, derived status, metadata checks, policies."""

from __future__ import annotations

import json
import uuid
from datetime import date

import pytest

from clinvault.config import CredentialPolicy
from clinvault.credentials import policies
from clinvault.credentials.categories import all_categories
from clinvault.credentials.intake import metadata_problems, parse_metadata
from clinvault.credentials.schemas import DocumentMetadata
from clinvault.credentials.views import add_business_days, estimated_review_date, submission_status
from clinvault.errors import CredentialMetadataInvalid
from clinvault.identity.principal import Principal, Role

FRIDAY = date(2026, 11, 27)


def test_business_days_skip_weekends() -> None:
    assert add_business_days(FRIDAY, 1) == date(2026, 11, 30)
    assert add_business_days(FRIDAY, 5) == date(2026, 12, 4)
    assert add_business_days(date(2026, 11, 28), 1) == date(2026, 11, 30)


def test_a_deep_queue_pushes_the_review_date() -> None:
    assert estimated_review_date(FRIDAY, 5, 0, 25) == date(2026, 12, 4)
    assert estimated_review_date(FRIDAY, 5, 24, 25) == date(2026, 12, 4)
    assert estimated_review_date(FRIDAY, 5, 50, 25) == date(2026, 12, 8)


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (["submitted", "submitted"], "submitted"),
        (["submitted", "in_review"], "in_review"),
        (["verified", "submitted"], "in_review"),
        (["verified", "rejected"], "rejected"),
        (["verified", "expired"], "expired"),
        (["verified", "verified"], "verified"),
    ],
)
def test_submission_status_is_derived(statuses: list[str], expected: str) -> None:
    assert submission_status(statuses) == expected


def _entry(**values: object) -> DocumentMetadata:
    base: dict[str, object] = {
        "category": "medical_license",
        "issuing_authority": "Board",
        "issued_on": "2024-01-01",
        "expires_on": "2027-01-01",
        "document_number": "X1",
    }
    base.update(values)
    return DocumentMetadata.model_validate({k: v for k, v in base.items() if v is not None})


def _codes(entry: DocumentMetadata, today: date = FRIDAY) -> list[str]:
    categories = all_categories(CredentialPolicy(), [])
    return [p["code"] for p in metadata_problems(entry, categories.get(entry.category), today)]


def test_metadata_rules() -> None:
    assert _codes(_entry()) == []
    assert _codes(_entry(expires_on=None)) == ["expiry_required"]
    assert _codes(_entry(category="curriculum_vitae", expires_on=None)) == []
    assert _codes(_entry(expires_on="2023-12-31")) == ["expiry_before_issue"]
    assert _codes(_entry(issued_on="2030-01-01", expires_on="2031-01-01")) == ["issued_in_future"]
    assert _codes(_entry(category="dea_registration", document_number="AB1234564")) == [
        "dea_number_invalid"
    ]
    assert _codes(_entry(category="dea_registration", document_number="AB1234563")) == []
    assert _codes(_entry(category="unknown_thing")) == ["category_unknown"]
    assert _codes(_entry(document_number=None)) == ["document_number_required"]
    assert _codes(_entry(document_number="  ")) == ["document_number_required"]
    assert _codes(_entry(category="dea_registration", document_number=None)) == [
        "document_number_required"
    ]
    assert _codes(_entry(category="curriculum_vitae", expires_on=None, document_number=None)) == []


def test_metadata_part_shape() -> None:
    one = json.dumps([{"category": "medical_license"}]).encode()
    parsed = parse_metadata(one, 1)
    assert isinstance(parsed[0], list)
    assert {p["code"] for p in parsed[0]} == {"metadata_invalid"}
    for raw, count in ((None, 1), (b"{", 1), (b"[]", 1), (one, 2), (b'"text"', 1)):
        with pytest.raises(CredentialMetadataInvalid):
            parse_metadata(raw, count)


def _principal(*roles: Role) -> Principal:
    return Principal(user_id=uuid.uuid4(), organization_id=uuid.uuid4(), roles=frozenset(roles))


def test_policies_deny_by_default() -> None:
    doctor = _principal(Role.DOCTOR)
    reviewer = _principal(Role.CREDENTIALING_REVIEWER)
    patient = _principal(Role.PATIENT)
    clerk = _principal(Role.CLERK)
    assert policies.can_submit(doctor, has_profile=False)
    assert policies.can_submit(clerk, has_profile=True)
    assert not policies.can_submit(clerk, has_profile=False)
    assert not policies.can_submit(patient, has_profile=True)
    assert policies.can_see_document(doctor, doctor.user_id)
    assert policies.can_see_document(reviewer, doctor.user_id)
    assert not policies.can_see_document(clerk, doctor.user_id)
    assert policies.can_decide(reviewer, doctor.user_id)
    assert not policies.can_decide(reviewer, reviewer.user_id)
    assert not policies.can_decide(doctor, uuid.uuid4())
    assert not policies.can_review_queue(doctor)
