"""The time window of the audit views and the hourly series of the summary: pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from clinvault.errors import AuditWindowTooLarge, RequestInvalid

# Defined beside its only raiser while errors.py is at its size limit.
DEFAULT_WINDOW = timedelta(hours=24)
MAX_WINDOW = timedelta(days=31)
HOUR_SECONDS = 3600


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime
    end: datetime


def _field_error(name: str, message: str) -> list[dict[str, str]]:
    return [{"field": name, "in": "query", "message": message, "type": "datetime"}]


def resolve_window(start: datetime | None, end: datetime | None, now: datetime) -> Window:
    """[from, to): `to` defaults to now, `from` to 24 hours before `to`; at most 31 days."""
    end = (end or now).astimezone(UTC)
    start = (start or end - DEFAULT_WINDOW).astimezone(UTC)
    if start >= end:
        raise RequestInvalid(
            "from must be earlier than to: swap them, or leave one out to get a 24-hour window.",
            errors=_field_error("from", "must be before to"),
        )
    if end - start > MAX_WINDOW:
        days = (end - start) / timedelta(days=1)
        raise AuditWindowTooLarge(
            f"The window from {start.isoformat()} to {end.isoformat()} spans {days:.1f} days; "
            "the audit views cover at most 31 days: move from or to closer together.",
            errors=_field_error("from", "the window may span at most 31 days"),
        )
    return Window(start, end)


def hour_index(moment: datetime) -> int:
    """Whole hours since the Unix epoch: the bucket the database groups `moment` into."""
    return int(moment.timestamp()) // HOUR_SECONDS


def hourly_series(window: Window, counts: Mapping[int, int]) -> list[tuple[datetime, int]]:
    """Every UTC hour touching the window, oldest first, with its count (0 when quiet)."""
    first, last = hour_index(window.start), hour_index(window.end - timedelta(microseconds=1))
    return [
        (datetime.fromtimestamp(index * HOUR_SECONDS, UTC), counts.get(index, 0))
        for index in range(first, last + 1)
    ]
