"""Spot suspicious activity in audit events: pure functions, no I/O.

The repository narrows the log to candidate events (and to per-actor
quarter-hour activity for business hours); these functions decide. A burst
is `threshold` matching events (distinct records, for reads) whose first and
last lie at most `window` apart; overlapping bursts of one actor or address
merge into one finding spanning them all.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from clinvault.config import AuditWatchPolicy

FindingKind = Literal[
    "failed_logins_by_actor",
    "failed_logins_by_ip",
    "mass_reads",
    "exports",
    "denied_burst",
    "outside_hours",
]

LOGIN_ACTIONS = frozenset(
    {"auth.login", "auth.login_mfa", "portal.login.submit", "portal.login.mfa"}
)
# A password accepted while the second factor is still due is a step, not a failure.
LOGIN_STEPS = frozenset({"mfa_required"})
DENIED_STATUSES = frozenset({403, 404})
NOT_STAFF = frozenset({"patient", "client"})


@dataclass(frozen=True, slots=True)
class ActivityEvent:
    """The audit columns detection needs; never a PHI value."""

    occurred_at: datetime
    action: str
    outcome: str
    status_code: int
    actor_id: uuid.UUID | None = None
    client_ip: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class ActivityBucket:
    """One actor's events within one quarter hour (UTC-aligned)."""

    actor_id: uuid.UUID
    count: int
    first_at: datetime
    last_at: datetime
    roles: str = ""  # the event's actor roles, comma-separated


@dataclass(frozen=True, slots=True)
class Finding:
    kind: FindingKind
    actor_id: uuid.UUID | None
    client_ip: str | None
    count: int
    first_at: datetime
    last_at: datetime
    detail: str


def is_failed_login(event: ActivityEvent) -> bool:
    return (
        event.action in LOGIN_ACTIONS
        and event.outcome == "denied"
        and event.detail not in LOGIN_STEPS
    )


def is_record_read(event: ActivityEvent) -> bool:
    return (
        event.action.endswith(".read")
        and event.outcome == "success"
        and event.actor_id is not None
        and event.resource_id is not None
    )


def is_export(event: ActivityEvent) -> bool:
    return "export" in event.action and event.outcome == "success" and event.actor_id is not None


def is_denied_access(event: ActivityEvent) -> bool:
    return event.status_code in DENIED_STATUSES and event.action not in LOGIN_ACTIONS


def within_business_hours(moment: time, start: time, end: time) -> bool:
    """Whether a local wall-clock time falls in [start, end); end before start spans midnight."""
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end


def _episodes(
    events: Sequence[ActivityEvent],
    threshold: int,
    window: timedelta,
    distinct: Callable[[ActivityEvent], Hashable] | None = None,
) -> list[Sequence[ActivityEvent]]:
    """Maximal runs of time-ordered events covered by windows holding >= threshold of them.

    With `distinct`, a window counts its distinct keys instead of its events.
    """
    ordered = sorted(events, key=lambda event: event.occurred_at)
    keys: Counter[Hashable] = Counter()
    spans: list[list[int]] = []
    left = 0
    for right, event in enumerate(ordered):
        if distinct is not None:
            keys[distinct(event)] += 1
        while event.occurred_at - ordered[left].occurred_at > window:
            if distinct is not None:
                stale = distinct(ordered[left])
                keys[stale] -= 1
                if not keys[stale]:
                    del keys[stale]
            left += 1
        size = len(keys) if distinct is not None else right - left + 1
        if size < threshold:
            continue
        if spans and left <= spans[-1][1]:
            spans[-1][1] = right
        else:
            spans.append([left, right])
    return [ordered[start : end + 1] for start, end in spans]


def _grouped(
    events: Iterable[ActivityEvent], group: Callable[[ActivityEvent], Hashable | None]
) -> dict[Hashable, list[ActivityEvent]]:
    groups: dict[Hashable, list[ActivityEvent]] = defaultdict(list)
    for event in events:
        name = group(event)
        if name is not None:
            groups[name].append(event)
    return groups


def _record(event: ActivityEvent) -> Hashable:
    return (event.resource_type, event.resource_id)


def _actor_or_ip(event: ActivityEvent) -> Hashable | None:
    if event.actor_id is not None:
        return ("actor", event.actor_id)
    return None if event.client_ip is None else ("ip", event.client_ip)


def _bursts(
    kind: FindingKind,
    events: Iterable[ActivityEvent],
    group: Callable[[ActivityEvent], Hashable | None],
    *,
    threshold: int,
    minutes: int,
    describe: Callable[[Sequence[ActivityEvent]], tuple[int, str]],
    distinct: Callable[[ActivityEvent], Hashable] | None = None,
    by_ip: bool = False,
) -> list[Finding]:
    found: list[Finding] = []
    for members in _grouped(events, group).values():
        for episode in _episodes(members, threshold, timedelta(minutes=minutes), distinct):
            count, what = describe(episode)
            first = episode[0]
            found.append(
                Finding(
                    kind=kind,
                    actor_id=None if by_ip else first.actor_id,
                    client_ip=first.client_ip if by_ip or first.actor_id is None else None,
                    count=count,
                    first_at=first.occurred_at,
                    last_at=episode[-1].occurred_at,
                    detail=f"{what} (threshold: {threshold} within {minutes} min).",
                )
            )
    return found


def _counted(noun: str) -> Callable[[Sequence[ActivityEvent]], tuple[int, str]]:
    def describe(episode: Sequence[ActivityEvent]) -> tuple[int, str]:
        minutes = _minutes(episode)
        return len(episode), f"{len(episode)} {noun} within {minutes}"

    return describe


def _distinct_reads(episode: Sequence[ActivityEvent]) -> tuple[int, str]:
    distinct = len({_record(event) for event in episode})
    return distinct, (
        f"{distinct} distinct records read ({len(episode)} reads) within {_minutes(episode)}"
    )


def _minutes(episode: Sequence[ActivityEvent]) -> str:
    seconds = (episode[-1].occurred_at - episode[0].occurred_at).total_seconds()
    return f"{seconds / 60:.1f} min"


def is_staff(roles: str) -> bool:
    """Whether an event's actor roles include a staff role: patients and API clients are not.

    Events recorded without roles (older rows, system work) count as staff, so that
    nothing is hidden for want of a role.
    """
    names = {name for name in roles.split(",") if name}
    return not names or any(name not in NOT_STAFF and ":" not in name for name in names)


def off_hours_period(moment: datetime, zone: ZoneInfo, end: time) -> date:
    """The day on which the off-hours period holding `moment` began (at business end).

    An evening and the early morning after it are one period: 21:00 and 03:00
    the next day both belong to the period that began at the day's closing time.
    """
    local = moment.astimezone(zone)
    return (local - timedelta(hours=end.hour, minutes=end.minute)).date()


def outside_hours(buckets: Iterable[ActivityBucket], policy: AuditWatchPolicy) -> list[Finding]:
    """One finding per staff member and off-hours period with at least `threshold` requests.

    Patients and API clients are expected at any hour and are left out.
    """
    zone = ZoneInfo(policy.timezone)
    start, end = policy.business_hours_start, policy.business_hours_end
    groups: dict[tuple[uuid.UUID, date], list[ActivityBucket]] = defaultdict(list)
    for bucket in buckets:
        if not is_staff(bucket.roles):
            continue
        local = bucket.first_at.astimezone(zone).time()
        if not within_business_hours(local, start, end):
            groups[(bucket.actor_id, off_hours_period(bucket.first_at, zone, end))].append(bucket)
    hours = f"{start:%H:%M}-{end:%H:%M} {policy.timezone}"
    found: list[Finding] = []
    for (actor_id, period), outside in groups.items():
        count = sum(bucket.count for bucket in outside)
        if count < policy.outside_hours_threshold:
            continue
        found.append(
            Finding(
                kind="outside_hours",
                actor_id=actor_id,
                client_ip=None,
                count=count,
                first_at=min(bucket.first_at for bucket in outside),
                last_at=max(bucket.last_at for bucket in outside),
                detail=f"{count} requests outside business hours ({hours}) "
                f"after closing time on {period:%a %d %b %Y}.",
            )
        )
    return found


def detect(
    events: Iterable[ActivityEvent],
    buckets: Iterable[ActivityBucket],
    policy: AuditWatchPolicy,
) -> list[Finding]:
    """Every finding in the candidate events and activity buckets, oldest first."""
    candidates = list(events)
    logins = [event for event in candidates if is_failed_login(event)]
    found = [
        *_bursts(
            "failed_logins_by_actor",
            logins,
            lambda event: event.actor_id,
            threshold=policy.failed_login_threshold,
            minutes=policy.failed_login_window_minutes,
            describe=_counted("failed sign-ins to this account"),
        ),
        *_bursts(
            "failed_logins_by_ip",
            logins,
            lambda event: event.client_ip,
            threshold=policy.failed_login_threshold,
            minutes=policy.failed_login_window_minutes,
            describe=_counted("failed sign-ins from this address"),
            by_ip=True,
        ),
        *_bursts(
            "mass_reads",
            [event for event in candidates if is_record_read(event)],
            lambda event: event.actor_id,
            threshold=policy.mass_read_threshold,
            minutes=policy.mass_read_window_minutes,
            describe=_distinct_reads,
            distinct=_record,
        ),
        *_bursts(
            "exports",
            [event for event in candidates if is_export(event)],
            lambda event: event.actor_id,
            threshold=policy.export_threshold,
            minutes=policy.export_window_minutes,
            describe=_counted("exports"),
        ),
        *_bursts(
            "denied_burst",
            [event for event in candidates if is_denied_access(event)],
            _actor_or_ip,
            threshold=policy.denied_threshold,
            minutes=policy.denied_window_minutes,
            describe=_counted("requests refused (403/404)"),
        ),
        *outside_hours(buckets, policy),
    ]
    return sorted(found, key=lambda finding: (finding.first_at, finding.kind))
