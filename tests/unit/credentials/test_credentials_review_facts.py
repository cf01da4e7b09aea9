"""Check links, completeness, SLA wording and licence flags, without I/O."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from clinvault.credentials.review_facts import (
    business_days_between,
    completeness,
    licence_flag,
    sla_state,
)
from clinvault.credentials.verify_links import credential_check_link, npi_registry_link
from clinvault.models.credentials import CredentialDocument

TODAY = date(2026, 12, 7)  # a Monday


def _document(category: str, status: str, expires_on: date | None = None) -> CredentialDocument:
    return CredentialDocument(
        id=uuid.uuid4(),
        category=category,
        status=status,
        expires_on=expires_on,
        is_current=True,
    )


def test_the_npi_link_goes_to_the_national_registry_only_for_ten_digits() -> None:
    link = npi_registry_link("1234567893")
    assert link is not None
    assert link.url == "https://npiregistry.cms.hhs.gov/provider-view/1234567893"
    assert npi_registry_link(None) is None
    assert npi_registry_link("12345/../x") is None


@pytest.mark.parametrize(
    ("category", "authority", "url"),
    [
        ("medical_license", "Texas Medical Board", "https://profile.tmb.state.tx.us/"),
        ("medical_license", "Medical Board of California", "https://search.dca.ca.gov/"),
        ("medical_license", "Board of Medicine, FL", "https://mqa-internet.doh.state.fl.us/"),
        ("medical_license", "State Medical Board", "https://www.docinfo.org/"),
        ("board_certification", "ABIM", "https://www.certificationmatters.org/"),
    ],
)
def test_a_licence_link_is_built_from_the_issuing_authority(
    category: str, authority: str, url: str
) -> None:
    assert credential_check_link(category, authority).url.startswith(url)


def test_an_unknown_authority_gets_a_search_link_without_the_number() -> None:
    link = credential_check_link("dea_registration", "Drug Enforcement Administration")
    assert link.url == ("https://duckduckgo.com/?q=Drug+Enforcement+Administration+verification")


def test_completeness_counts_verified_and_soon_expiring_documents() -> None:
    documents = [
        _document("medical_license", "verified", date(2026, 12, 27)),
        _document("board_certification", "verified", date(2028, 1, 1)),
        _document("dea_registration", "verified", date(2028, 1, 1)),
        _document("curriculum_vitae", "verified"),
        _document("malpractice_insurance", "in_review", date(2028, 1, 1)),
    ]
    found = completeness(documents, TODAY)
    assert found.text == "4 of 5 verified, 1 expiring in 30 days"
    assert not found.complete


def test_the_sla_counts_business_days_and_says_overdue_in_words() -> None:
    assert business_days_between(date(2026, 12, 4), TODAY) == 1  # Friday -> Monday
    on_time = sla_state(datetime(2026, 12, 3, 9, tzinfo=UTC), TODAY, 5)
    assert (on_time.text, on_time.overdue) == ("Day 2 of 5", False)
    late = sla_state(datetime(2026, 11, 23, 9, tzinfo=UTC), TODAY, 5)
    assert late.overdue
    assert late.text == "Overdue by 5 business days"


def test_a_rejected_or_expired_licence_is_flagged() -> None:
    assert licence_flag([_document("medical_license", "rejected")], TODAY) == "Licence rejected"
    lapsed = _document("medical_license", "verified", date(2026, 12, 1))
    assert licence_flag([lapsed], TODAY) == "Licence expired"
    assert licence_flag([_document("medical_license", "expired")], TODAY) == "Licence expired"
    assert licence_flag([_document("dea_registration", "rejected")], TODAY) is None
    assert licence_flag([_document("medical_license", "verified", date(2027, 1, 1))], TODAY) is None
