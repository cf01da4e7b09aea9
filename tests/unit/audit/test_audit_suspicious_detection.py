"""Suspicious-activity detection on synthetic events: thresholds, windows, grouping."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta

import pytest

from clinvault.audit.suspicious import (
    ActivityBucket,
    ActivityEvent,
    Finding,
    detect,
    is_staff,
    outside_hours,
    within_business_hours,
)
from clinvault.config import AuditWatchPolicy

T0 = datetime(2024, 5, 6, 10, 0, tzinfo=UTC)  # a Monday, mid-morning UTC
ALICE = uuid.UUID("01900000-0000-7000-8000-00000000000a")
BOB = uuid.UUID("01900000-0000-7000-8000-00000000000b")
POLICY = AuditWatchPolicy(
    failed_login_threshold=3,
    failed_login_window_minutes=5,
    mass_read_threshold=4,
    mass_read_window_minutes=10,
    export_threshold=2,
    export_window_minutes=30,
    denied_threshold=3,
    denied_window_minutes=5,
)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def failed_login(
    minutes: float, actor: uuid.UUID | None = ALICE, ip: str = "198.51.100.1"
) -> ActivityEvent:
    return ActivityEvent(at(minutes), "auth.login", "denied", 401, actor, ip, "user", None)


def read(minutes: float, record: str, actor: uuid.UUID = ALICE) -> ActivityEvent:
    return ActivityEvent(
        at(minutes), "patients.read", "success", 200, actor, "10.0.0.1", "patient", record
    )


def kinds(findings: list[Finding]) -> list[str]:
    return [finding.kind for finding in findings]


def test_quiet_activity_yields_nothing() -> None:
    events = [failed_login(0), failed_login(6), failed_login(12), read(0, "a"), read(1, "b")]
    assert detect(events, [], POLICY) == []


def test_a_failed_login_burst_is_reported_per_account_and_per_address() -> None:
    events = [failed_login(0), failed_login(2), failed_login(4), failed_login(30)]
    findings = detect(events, [], POLICY)
    assert kinds(findings) == ["failed_logins_by_actor", "failed_logins_by_ip"]
    by_actor, by_ip = findings
    assert (by_actor.actor_id, by_actor.client_ip, by_actor.count) == (ALICE, None, 3)
    assert (by_actor.first_at, by_actor.last_at) == (at(0), at(4))
    assert (by_ip.actor_id, by_ip.client_ip, by_ip.count) == (None, "198.51.100.1", 3)
    assert "3 failed sign-ins" in by_actor.detail
    assert "threshold: 3 within 5 min" in by_actor.detail


def test_failures_spread_over_more_than_the_window_are_not_a_burst() -> None:
    events = [failed_login(0), failed_login(2.5), failed_login(5.01)]
    assert detect(events, [], POLICY) == []


def test_overlapping_bursts_merge_into_one_finding() -> None:
    events = [failed_login(minute) for minute in (0, 1, 2, 4, 6, 8, 20, 21, 22)]
    actor_findings = [f for f in detect(events, [], POLICY) if f.kind == "failed_logins_by_actor"]
    assert [(f.count, f.first_at, f.last_at) for f in actor_findings] == [
        (6, at(0), at(8)),
        (3, at(20), at(22)),
    ]


def test_an_address_trying_many_accounts_is_found_by_address_only() -> None:
    events = [failed_login(minute, actor=uuid.uuid4()) for minute in (0, 1, 2)]
    events.append(failed_login(3, actor=None))
    findings = detect(events, [], POLICY)
    assert kinds(findings) == ["failed_logins_by_ip"]
    assert findings[0].count == 4


def test_the_mfa_step_of_a_sign_in_is_not_a_failure() -> None:
    step = ActivityEvent(
        at(0), "auth.login", "denied", 401, ALICE, "198.51.100.1", "user", None, "mfa_required"
    )
    events = [step, step, step]
    assert detect(events, [], POLICY) == []


def test_mass_reads_count_distinct_records_within_the_window() -> None:
    same_record = [read(minute, "r1") for minute in range(10)]
    assert detect(same_record, [], POLICY) == []
    spread = [read(minute * 11, f"r{minute}") for minute in range(6)]
    assert detect(spread, [], POLICY) == []
    burst = [read(0, "r1"), read(1, "r2"), read(2, "r2"), read(3, "r3"), read(4, "r4")]
    findings = detect([*burst, read(0, "x", actor=BOB)], [], POLICY)
    assert kinds(findings) == ["mass_reads"]
    assert (findings[0].actor_id, findings[0].count) == (ALICE, 4)
    assert "4 distinct records read (5 reads)" in findings[0].detail


def test_reads_that_failed_or_name_no_record_are_ignored() -> None:
    failed = [
        ActivityEvent(at(i), "patients.read", "failure", 404, ALICE, None, "patient", f"r{i}")
        for i in range(5)
    ]
    unnamed = [
        ActivityEvent(at(i), "patients.read", "success", 200, ALICE, None, "patient", None)
        for i in range(5)
    ]
    listing = [
        ActivityEvent(at(i), "patients.list", "success", 200, ALICE, None, "patient", f"r{i}")
        for i in range(5)
    ]
    assert [f.kind for f in detect(failed + unnamed + listing, [], POLICY)] == ["denied_burst"]


def test_exports_by_one_actor() -> None:
    export = "audit.logs.export"
    events = [
        ActivityEvent(at(0), export, "success", 200, ALICE),
        ActivityEvent(at(29), export, "success", 200, ALICE),
        ActivityEvent(at(0), export, "success", 200, BOB),
        ActivityEvent(at(40), export, "success", 200, BOB),
    ]
    findings = detect(events, [], POLICY)
    assert [(f.kind, f.actor_id, f.count) for f in findings] == [("exports", ALICE, 2)]


def test_denied_bursts_by_actor_and_by_anonymous_address() -> None:
    denied = [ActivityEvent(at(i), "patients.read", "denied", 403, BOB) for i in range(3)]
    missing = [ActivityEvent(at(i), "users.read", "failure", 404, ALICE) for i in (0, 1)]
    scanner = [
        ActivityEvent(at(i), "http.unrouted", "failure", 404, None, "192.0.2.9") for i in range(4)
    ]
    findings = detect(denied + missing + scanner, [], POLICY)
    assert sorted((f.actor_id is None, f.client_ip, f.count) for f in findings) == [
        (False, None, 3),
        (True, "192.0.2.9", 4),
    ]
    assert {f.kind for f in findings} == {"denied_burst"}


@pytest.mark.parametrize(
    ("moment", "start", "end", "inside"),
    [
        (time(7, 0), time(7, 0), time(19, 0), True),
        (time(18, 59), time(7, 0), time(19, 0), True),
        (time(19, 0), time(7, 0), time(19, 0), False),
        (time(6, 59), time(7, 0), time(19, 0), False),
        (time(23, 0), time(22, 0), time(6, 0), True),
        (time(5, 59), time(22, 0), time(6, 0), True),
        (time(12, 0), time(22, 0), time(6, 0), False),
    ],
)
def test_business_hours(moment: time, start: time, end: time, inside: bool) -> None:
    assert within_business_hours(moment, start, end) is inside


def test_activity_outside_hours_is_judged_in_the_configured_time_zone() -> None:
    paris = AuditWatchPolicy(
        timezone="Europe/Paris", business_hours_start=time(7), business_hours_end=time(19)
    )
    evening_utc = datetime(2024, 5, 6, 16, 30, tzinfo=UTC)  # 18:30 in Paris (UTC+2)
    late_utc = datetime(2024, 5, 6, 17, 15, tzinfo=UTC)  # 19:15 in Paris
    night_utc = datetime(2024, 5, 6, 3, 0, tzinfo=UTC)  # 05:00 in Paris
    buckets = [
        ActivityBucket(ALICE, 4, evening_utc, evening_utc + timedelta(minutes=10)),
        ActivityBucket(ALICE, 2, late_utc, late_utc + timedelta(minutes=5)),
        ActivityBucket(ALICE, 3, night_utc, night_utc + timedelta(minutes=1)),
        ActivityBucket(BOB, 5, evening_utc, evening_utc),
    ]
    # One finding per member and off-hours period: 05:00 belongs to the night after
    # 5 May's closing time, 19:15 to the one after 6 May's.
    findings = sorted(outside_hours(buckets, paris), key=lambda f: f.first_at)
    assert [(f.kind, f.actor_id, f.count) for f in findings] == [
        ("outside_hours", ALICE, 3),
        ("outside_hours", ALICE, 2),
    ]
    assert (findings[0].first_at, findings[0].last_at) == (
        night_utc,
        night_utc + timedelta(minutes=1),
    )
    assert (findings[1].first_at, findings[1].last_at) == (
        late_utc,
        late_utc + timedelta(minutes=5),
    )
    assert "07:00-19:00 Europe/Paris" in findings[0].detail
    assert "Sun 05 May 2024" in findings[0].detail
    assert "Mon 06 May 2024" in findings[1].detail
    in_utc = outside_hours(buckets, AuditWatchPolicy())
    assert [(f.actor_id, f.count) for f in in_utc] == [(ALICE, 3)]


def test_the_outside_hours_threshold_applies_per_actor() -> None:
    night = datetime(2024, 5, 6, 2, 0, tzinfo=UTC)
    policy = AuditWatchPolicy(outside_hours_threshold=3)
    buckets = [ActivityBucket(ALICE, 2, night, night), ActivityBucket(BOB, 3, night, night)]
    assert [f.actor_id for f in outside_hours(buckets, policy)] == [BOB]


def test_findings_come_oldest_first_and_carry_no_record_ids() -> None:
    events = [read(30 + i, f"secret-record-{i}") for i in range(4)] + [
        failed_login(i) for i in range(3)
    ]
    night = datetime(2024, 5, 6, 1, 0, tzinfo=UTC)
    findings = detect(events, [ActivityBucket(BOB, 1, night, night)], POLICY)
    assert kinds(findings) == [
        "outside_hours",
        "failed_logins_by_actor",
        "failed_logins_by_ip",
        "mass_reads",
    ]
    assert all("secret-record" not in f.detail for f in findings)


@pytest.mark.parametrize(
    "values",
    [
        {"timezone": "Mars/Olympus"},
        {"business_hours_start": "07:10"},
        {"business_hours_start": "09:00", "business_hours_end": "09:00"},
        {"failed_login_threshold": 1},
        {"mass_read_window_minutes": 0},
    ],
)
def test_impossible_settings_are_refused(values: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"CLINVAULT_AUDIT__|greater than|Mars"):
        AuditWatchPolicy.model_validate(values)


def test_an_evening_and_the_early_morning_after_it_are_one_finding() -> None:
    evening = datetime(2024, 5, 6, 21, 0, tzinfo=UTC)
    early = datetime(2024, 5, 7, 3, 0, tzinfo=UTC)
    next_evening = datetime(2024, 5, 7, 22, 0, tzinfo=UTC)
    buckets = [
        ActivityBucket(ALICE, 2, evening, evening, roles="nurse"),
        ActivityBucket(ALICE, 3, early, early, roles="nurse"),
        ActivityBucket(ALICE, 1, next_evening, next_evening, roles="nurse"),
    ]
    findings = sorted(outside_hours(buckets, AuditWatchPolicy()), key=lambda f: f.first_at)
    assert [(f.actor_id, f.count, f.first_at, f.last_at) for f in findings] == [
        (ALICE, 5, evening, early),
        (ALICE, 1, next_evening, next_evening),
    ]


def test_patients_and_api_clients_are_never_outside_hours_findings() -> None:
    night = datetime(2024, 5, 6, 2, 0, tzinfo=UTC)
    buckets = [
        ActivityBucket(ALICE, 4, night, night, roles="patient"),
        ActivityBucket(BOB, 4, night, night, roles="client:records.read"),
        ActivityBucket(BOB, 1, night, night, roles="doctor,org_admin"),
    ]
    findings = outside_hours(buckets, AuditWatchPolicy())
    assert [(f.actor_id, f.count) for f in findings] == [(BOB, 1)]


@pytest.mark.parametrize(
    ("roles", "staff"),
    [
        ("patient", False),
        ("client:ingest.write", False),
        ("client", False),
        ("nurse", True),
        ("clerk,patient", True),
        ("", True),
    ],
)
def test_who_counts_as_staff(roles: str, staff: bool) -> None:
    assert is_staff(roles) is staff
