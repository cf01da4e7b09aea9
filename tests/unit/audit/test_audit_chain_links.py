"""Chain links, checkpoint lines and who may read the audit log."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid

import pytest

from clinvault.audit.chain import GENESIS, Checkpoint, link_hash
from clinvault.audit.routes import parse_instant
from clinvault.audit.service import audit_read_scope
from clinvault.audit.verify import Problem, VerifyReport
from clinvault.errors import NotFound, PermissionDenied, RequestInvalid
from clinvault.identity.principal import Principal, Role

KEY = b"k" * 32
MAC = "a" * 64


def test_genesis_is_64_zeros() -> None:
    assert GENESIS == "0" * 64


def test_link_hash_is_hmac_of_previous_colon_mac() -> None:
    expected = hmac.new(KEY, f"{GENESIS}:{MAC}".encode(), hashlib.sha256).hexdigest()
    assert link_hash(KEY, GENESIS, MAC) == expected


def test_link_hash_depends_on_every_input() -> None:
    base = link_hash(KEY, GENESIS, MAC)
    assert link_hash(KEY, GENESIS, MAC) == base
    assert link_hash(KEY, "1" * 64, MAC) != base
    assert link_hash(KEY, GENESIS, "b" * 64) != base
    assert link_hash(b"x" * 32, GENESIS, MAC) != base


def test_links_chain_in_order() -> None:
    first = link_hash(KEY, GENESIS, "1" * 64)
    second = link_hash(KEY, first, "2" * 64)
    swapped = link_hash(KEY, link_hash(KEY, GENESIS, "2" * 64), "1" * 64)
    assert second != swapped


def test_checkpoint_line_round_trips() -> None:
    checkpoint = Checkpoint(12, "c" * 64, "2024-05-01T00:00:00+00:00", "d" * 64, "k1", "s1")
    assert json.loads(checkpoint.line()) == {
        "v": 2,
        "chain_seq": 12,
        "chain_hash": "c" * 64,
        "at": "2024-05-01T00:00:00+00:00",
        "prev": "d" * 64,
        "key": "k1",
        "sig": "s1",
    }
    assert Checkpoint.parse(checkpoint.line()) == checkpoint


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        "[]",
        '{"chain_hash": "' + "c" * 64 + '"}',
        '{"chain_seq": 0, "chain_hash": "' + "c" * 64 + '"}',
        '{"chain_seq": "3", "chain_hash": "' + "c" * 64 + '"}',
        '{"chain_seq": true, "chain_hash": "' + "c" * 64 + '"}',
        '{"chain_seq": 3, "chain_hash": "short"}',
    ],
)
def test_malformed_checkpoint_lines_are_refused(raw: str) -> None:
    with pytest.raises(ValueError, match=r"\S"):
        Checkpoint.parse(raw)


ORG = uuid.UUID(int=1)
OTHER = uuid.UUID(int=2)


def principal(*roles: Role) -> Principal:
    return Principal(uuid.UUID(int=10), ORG, frozenset(roles))


def test_platform_admin_reads_everything_or_one_organization() -> None:
    admin = principal(Role.ADMIN)
    assert audit_read_scope(admin, None) is None
    assert audit_read_scope(admin, OTHER) == OTHER


def test_org_admin_is_held_to_their_organization() -> None:
    org_admin = principal(Role.ORG_ADMIN)
    assert audit_read_scope(org_admin, None) == ORG
    assert audit_read_scope(org_admin, ORG) == ORG
    with pytest.raises(NotFound, match="organization_id"):
        audit_read_scope(org_admin, OTHER)


@pytest.mark.parametrize("role", sorted(set(Role) - {Role.ADMIN, Role.ORG_ADMIN}))
def test_other_roles_may_not_read_the_audit_log(role: Role) -> None:
    with pytest.raises(PermissionDenied):
        audit_read_scope(principal(role), None)


@pytest.mark.parametrize(
    "value", ["2024-05-01T00:00:00Z", "2024-05-01T02:00:00+02:00", " 2024-05-01T00:00:00+00:00 "]
)
def test_aware_instants_are_accepted(value: str) -> None:
    parsed = parse_instant("since", value)
    assert parsed is not None
    assert parsed.utcoffset() is not None
    assert parsed.timestamp() == 1714521600


@pytest.mark.parametrize("value", ["2024-05-01T00:00:00", "2024-05-01", "yesterday", "2024-13-01Z"])
def test_naive_or_malformed_instants_say_the_format(value: str) -> None:
    with pytest.raises(RequestInvalid, match="timezone-aware ISO 8601") as caught:
        parse_instant("since", value)
    assert caught.value.errors is not None
    assert caught.value.errors[0]["field"] == "since"


def test_report_summary_names_the_first_problem() -> None:
    ok = VerifyReport(ok=True, events_checked=3, first_problem=None, checkpoints_checked=1)
    assert ok.summary() == "audit chain intact: 3 events and 1 checkpoint verified"
    problem = Problem(kind="edited", message="event seq=4 fails its MAC", seq=4)
    broken = VerifyReport(ok=False, events_checked=3, first_problem=problem, problem_count=3)
    assert broken.summary() == (
        "audit chain BROKEN: event seq=4 fails its MAC (2 further problems)"
    )
