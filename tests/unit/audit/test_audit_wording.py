"""Audit events in words: the wording table names real actions, sentences carry no PHI."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from clinvault.audit import wording
from clinvault.audit.describe import reference, sentence
from clinvault.audit.schemas import AuditEventRead, HourCount
from clinvault.web.pages.audit_chart import activity_chart, nice_ceiling

SRC = Path(__file__).resolve().parents[3] / "src" / "clinvault"
ROUTE_NAME = re.compile(r'name="([a-z_]+(?:\.[a-z_]+)+)"')
OSEI = uuid.UUID("01900000-0000-7000-8000-0000000000a1")
PATIENT_ID = "01900000-0000-7000-8000-00003f9a0c12"


def route_names() -> set[str]:
    found: set[str] = set()
    for path in SRC.rglob("*.py"):
        found.update(ROUTE_NAME.findall(path.read_text(encoding="utf-8")))
    return found


def event(action: str, **changes: object) -> AuditEventRead:
    values: dict[str, object] = {
        "seq": 1,
        "id": uuid.uuid4(),
        "occurred_at": datetime(2026, 12, 7, 10, tzinfo=UTC),
        "request_id": "r",
        "actor_id": OSEI,
        "actor_roles": "doctor",
        "organization_id": uuid.uuid4(),
        "action": action,
        "resource_type": None,
        "resource_id": None,
        "outcome": "success",
        "status_code": 200,
        "method": "GET",
        "path": "/x",
        "client_ip": "192.0.2.1",
        "user_agent": None,
        "detail": None,
        "chain_seq": None,
    }
    values.update(changes)
    return AuditEventRead.model_validate(values)


NAMES = {OSEI: "Dr Kwame Osei"}


def test_every_worded_action_exists() -> None:
    known = route_names() | {"auth.source.throttled"}
    missing = sorted((set(wording.ACTIONS) | wording.SIGN_IN_ACTIONS) - known)
    assert missing == []


def test_every_phrase_uses_only_the_resource_placeholder() -> None:
    for done, attempt in wording.ACTIONS.values():
        for phrase in (done, attempt):
            assert set(re.findall(r"{(\w*)}", phrase)) <= {"resource"}, phrase


def test_opening_a_chart_names_the_doctor_and_the_patient_reference() -> None:
    told = sentence(
        event("portal.patient.read", resource_type="patient", resource_id=PATIENT_ID), NAMES
    )
    assert told == "Dr Kwame Osei opened the chart of patient P-3F9A0C12"


def test_refusals_and_failures_say_what_was_tried() -> None:
    refused = event(
        "portal.patient.read",
        resource_type="patient",
        resource_id=PATIENT_ID,
        outcome="denied",
        status_code=403,
    )
    assert sentence(refused, NAMES) == (
        "Dr Kwame Osei was refused when trying to open the chart of patient P-3F9A0C12 (403)"
    )
    missing = event(
        "records.record.read", resource_type="medical_record", outcome="failure", status_code=404
    )
    assert sentence(missing, NAMES) == "Dr Kwame Osei could not read a record (404)"


@pytest.mark.parametrize(
    ("detail", "expected"),
    [
        ("password_mismatch", "Sign-in refused: wrong password (Dr Kwame Osei)"),
        (
            "account_locked",
            "Sign-in refused: account locked after repeated failures (Dr Kwame Osei)",
        ),
        (
            "mfa_required",
            "Dr Kwame Osei entered the right password; the two-factor code was due next",
        ),
    ],
)
def test_sign_ins_are_told_from_the_sign_in(detail: str, expected: str) -> None:
    told = sentence(event("auth.login", outcome="denied", status_code=401, detail=detail), NAMES)
    assert told == expected


def test_an_unknown_address_and_an_unknown_action() -> None:
    anonymous = event(
        "portal.login.submit", actor_id=None, outcome="denied", detail="unknown_account"
    )
    assert sentence(anonymous, NAMES) == "Sign-in refused: no account has this email"
    other = event("something.new", actor_id=None)
    assert sentence(other, NAMES) == "Someone not signed in made a request (something.new)"
    stranger = event("portal.patient.list", actor_id=uuid.UUID(int=0xABCDEF12))
    assert sentence(stranger, NAMES) == "Account abcdef12 listed patients"


def test_references_use_the_random_end_of_the_id() -> None:
    assert reference("patient", PATIENT_ID) == "patient P-3F9A0C12"
    assert reference("care_plan_comment", "abc") == "care plan comment ABC"
    assert reference(None, None) == "a resource"


@pytest.mark.parametrize(("value", "top"), [(0, 1), (1, 1), (3, 5), (7, 10), (10, 10), (11, 20)])
def test_count_axis_tops_are_round(value: int, top: int) -> None:
    assert nice_ceiling(value) == top


def test_the_chart_has_labelled_ticks_on_both_axes() -> None:
    hours = [
        HourCount(
            hour=datetime(2026, 12, 6, 22 + i, tzinfo=UTC)
            if i < 2
            else datetime(2026, 12, 7, i - 2, tzinfo=UTC),
            count=i,
        )
        for i in range(24)
    ]
    chart = activity_chart(hours)
    assert [tick.label for tick in chart.count_ticks] == ["0", "25", "50"]
    assert chart.time_ticks[0].label == "06 Dec 22:00"
    assert chart.time_ticks[1].label == "07 Dec 02:00"  # a new day names its date
    assert chart.time_ticks[2].label == "06:00"
    assert len(chart.bars) == 24
    tallest = max(chart.bars, key=lambda bar: bar.height)
    assert tallest.y >= chart.top
    assert tallest.y + tallest.height == pytest.approx(chart.bottom)
    assert chart.busiest is not None
    assert chart.busiest.count == 23
