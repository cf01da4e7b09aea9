"""What a home page shows: panels of counts and a few rows, each linking to its full page.

A panel is plain data built from the features' services; the template lays
every panel out the same way, so a new concern only adds a builder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Rows shown per panel; the count says how many there are in all.
ROWS = 5


@dataclass(frozen=True, slots=True)
class Row:
    text: str
    detail: str = ""
    route: str | None = None
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Panel:
    key: str
    title: str
    summary: str
    rows: tuple[Row, ...] = ()
    route: str | None = None
    route_label: str = ""
    # True when the count asks for action (shown as an attention marker).
    attention: bool = False


def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def zone_of(name: str | None) -> tzinfo:
    """The user's time zone, UTC when unset or unknown."""
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def clock(moment: datetime, zone: tzinfo) -> str:
    """`14:30 CET`: a time in the viewer's zone with its abbreviation."""
    local = moment.astimezone(zone)
    return f"{local:%H:%M} {local.tzname() or 'UTC'}"


def day_and_clock(moment: datetime, zone: tzinfo) -> str:
    local = moment.astimezone(zone)
    return f"{local:%a %d %b %Y}, {clock(moment, zone)}"


def long_date(day: date) -> str:
    return f"{day:%d %b %Y}"
