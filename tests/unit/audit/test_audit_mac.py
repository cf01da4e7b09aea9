"""Row MACs: a stable canonical form over every application-written field."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from clinvault.audit.recorder import (
    MAC_FIELDS,
    AuditRecorder,
    canonical_bytes,
    event_mac,
    mac_is_valid,
    outcome_for,
)
from clinvault.context import RequestContext
from clinvault.identity.principal import Principal, Role
from clinvault.models.audit import AuditEvent

KEY = bytes(range(32))
EVENT_ID = uuid.UUID("01890000-0000-7000-8000-000000000001")
ACTOR_ID = uuid.UUID("01890000-0000-7000-8000-0000000000aa")
ORG_ID = uuid.UUID("01890000-0000-7000-8000-0000000000bb")
WHEN = datetime(2024, 5, 1, 12, 30, 45, 123456, tzinfo=UTC)


def sample(**changes: Any) -> AuditEvent:
    values: dict[str, Any] = {
        "id": EVENT_ID,
        "occurred_at": WHEN,
        "request_id": "req-0001-abcdef",
        "actor_id": ACTOR_ID,
        "actor_roles": "doctor,org_admin",
        "organization_id": ORG_ID,
        "action": "patients.read",
        "resource_type": "patient",
        "resource_id": "42",
        "outcome": "success",
        "status_code": 200,
        "method": "GET",
        "path": "/api/patients/42",
        "client_ip": "203.0.113.7",
        "user_agent": "pytest",
        "key_version": 1,
        "detail": None,
    }
    values.update(changes)
    return AuditEvent(**values)


def test_canonical_form_is_pinned() -> None:
    assert canonical_bytes(sample()) == (
        b'{"action":"patients.read","actor_id":"01890000-0000-7000-8000-0000000000aa",'
        b'"actor_roles":"doctor,org_admin","client_ip":"203.0.113.7","detail":null,'
        b'"id":"01890000-0000-7000-8000-000000000001","key_version":1,"method":"GET",'
        b'"occurred_at":"2024-05-01T12:30:45.123456+00:00",'
        b'"organization_id":"01890000-0000-7000-8000-0000000000bb",'
        b'"outcome":"success","path":"/api/patients/42","request_id":"req-0001-abcdef",'
        b'"resource_id":"42","resource_type":"patient","status_code":200,'
        b'"user_agent":"pytest"}'
    )


def test_mac_is_hmac_sha256_of_the_canonical_form() -> None:
    event = sample()
    expected = hmac.new(KEY, canonical_bytes(event), hashlib.sha256).hexdigest()
    assert event_mac(KEY, event) == expected
    assert len(expected) == 64


def test_the_same_instant_in_another_zone_gives_the_same_mac() -> None:
    plus_two = WHEN.astimezone(timezone(timedelta(hours=2)))
    assert canonical_bytes(sample(occurred_at=plus_two)) == canonical_bytes(sample())


def test_whole_seconds_keep_their_microseconds_field() -> None:
    event = sample(occurred_at=WHEN.replace(microsecond=0))
    assert b'"occurred_at":"2024-05-01T12:30:45.000000+00:00"' in canonical_bytes(event)


def test_a_naive_timestamp_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        canonical_bytes(sample(occurred_at=WHEN.replace(tzinfo=None)))


@pytest.mark.parametrize("field", MAC_FIELDS)
def test_every_covered_field_changes_the_mac(field: str) -> None:
    replacement: dict[str, Any] = {
        "id": uuid.UUID(int=7),
        "occurred_at": WHEN + timedelta(microseconds=1),
        "actor_id": None,
        "organization_id": uuid.UUID(int=9),
        "status_code": 500,
        "key_version": 2,
        "detail": "changed",
    }
    value = replacement.get(field, "changed")
    assert event_mac(KEY, sample(**{field: value})) != event_mac(KEY, sample())


def test_chain_fields_and_sequence_are_outside_the_mac() -> None:
    event = sample()
    before = event_mac(KEY, event)
    event.seq = 99
    event.chain_seq = 5
    event.chain_hash = "f" * 64
    event.mac = "0" * 64
    assert event_mac(KEY, event) == before


def test_the_mac_depends_on_the_key() -> None:
    assert event_mac(KEY, sample()) != event_mac(bytes(32), sample())


def test_mac_is_valid_checks_the_stored_mac() -> None:
    event = sample()
    event.mac = event_mac(KEY, event)
    assert mac_is_valid(KEY, event)
    event.action = "patients.delete"
    assert not mac_is_valid(KEY, event)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, "success"),
        (201, "success"),
        (204, "success"),
        (302, "success"),
        (400, "failure"),
        (401, "denied"),
        (403, "denied"),
        (404, "failure"),
        (409, "failure"),
        (413, "failure"),
        (422, "failure"),
        (429, "denied"),
        (500, "error"),
        (503, "error"),
    ],
)
def test_outcome_for(status: int, outcome: str) -> None:
    assert outcome_for(status) == outcome


def make_context(**changes: Any) -> RequestContext:
    ctx = RequestContext(
        request_id="req-0001-abcdef",
        method="GET",
        path="/api/patients/42",
        client_ip="203.0.113.7",
        user_agent="pytest",
        action="patients.read",
    )
    for name, value in changes.items():
        setattr(ctx, name, value)
    return ctx


def test_build_takes_the_actor_from_the_principal() -> None:
    principal = Principal(ACTOR_ID, ORG_ID, frozenset({Role.ORG_ADMIN, Role.DOCTOR}))
    event = AuditRecorder(KEY).build(make_context(principal=principal), 200)
    assert event.actor_id == ACTOR_ID
    assert event.organization_id == ORG_ID
    assert event.actor_roles == "doctor,org_admin"
    assert event.outcome == "success"
    assert event.occurred_at.tzinfo is not None
    assert mac_is_valid(KEY, event)


def test_build_falls_back_to_the_noted_actor() -> None:
    ctx = make_context(actor_hint=ACTOR_ID, organization_hint=ORG_ID, action=None)
    event = AuditRecorder(KEY, key_version=3).build(ctx, 401)
    assert (event.actor_id, event.organization_id, event.actor_roles) == (ACTOR_ID, ORG_ID, "")
    assert event.action == "http.unrouted"
    assert event.outcome == "denied"
    assert event.key_version == 3


def test_build_keeps_control_characters_and_overlong_values_out() -> None:
    ctx = make_context(
        path="/api/\x00evil\r\n" + "p" * 400,
        user_agent="agent\x00" + "u" * 400,
        resource_id="r" * 100,
        audit_detail="line\nbreak",
    )
    event = AuditRecorder(KEY).build(ctx, 404)
    assert "\x00" not in event.path
    assert "\r" not in event.path
    assert len(event.path) == 300
    assert event.user_agent is not None
    assert len(event.user_agent) == 300
    assert "\x00" not in event.user_agent
    assert event.resource_id == "r" * 64
    assert event.detail == "line\ufffdbreak"
    assert mac_is_valid(KEY, event)


def test_build_stores_no_user_agent_when_none_was_sent() -> None:
    event = AuditRecorder(KEY).build(make_context(user_agent=""), 200)
    assert event.user_agent is None
