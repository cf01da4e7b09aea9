"""Wall-clock time in a named (IANA) time zone: validation, display and form input.

Times are stored and exchanged in UTC; only the portal shows and reads them in
the viewer's zone (the user's own, else the organization's, else UTC). These
functions are pure so that the web layer and the services format alike.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

UTC_NAME = "UTC"
Style = Literal["datetime", "date", "time", "slot"]


class NonexistentLocalTime(ValueError):
    """The wall-clock time is skipped in that zone (clocks go forward over it)."""

    def __init__(self, day: date, clock: time, zone_name: str) -> None:
        self.day = day
        self.clock = clock
        self.zone_name = zone_name
        super().__init__(
            f"{clock:%H:%M} does not exist on {long_date(day)} in {zone_name}: the clocks "
            "go forward over it. Choose a time outside the change."
        )


# Names in the zone database that are not places: the host's own zone and placeholders.
_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})


@lru_cache(maxsize=1)
def known_zones() -> tuple[str, ...]:
    """Every IANA zone name the system knows, sorted."""
    return tuple(sorted((zoneinfo.available_timezones() - _NOT_ZONES) | {UTC_NAME}))


def zone_or_none(name: str | None) -> ZoneInfo | None:
    """The zone called `name`, or None for a blank or unknown name."""
    if not name or name not in known_zones():
        return None
    try:
        return ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def viewer_zone(user_zone: str | None, organization_zone: str | None) -> ZoneInfo:
    """The user's zone, else the organization's, else UTC."""
    return zone_or_none(user_zone) or zone_or_none(organization_zone) or ZoneInfo(UTC_NAME)


def as_utc(moment: datetime) -> datetime:
    """A stored time in UTC; a naive value (SQLite) is UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def abbreviation(local: datetime) -> str:
    """The zone's abbreviation at that moment ("CST", "CEST"); numeric ones as "UTC+05:45"."""
    name = local.tzname() or UTC_NAME
    if name[:1] in "+-":
        sign, digits = name[0], name[1:]
        return f"UTC{sign}{digits[:2]}" + (
            f":{digits[2:4]}" if digits[2:4] not in ("", "00") else ""
        )
    return name


def long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def format_moment(moment: datetime, zone: ZoneInfo, style: Style = "datetime") -> str:
    """`moment` on the wall clock of `zone`, with the zone's abbreviation where a time is shown.

    datetime "12 Mar 2026 10:00 CST", date "12 March 2026", time "10:00 CST",
    slot "10:00 CST on 12 March 2026".
    """
    local = as_utc(moment).astimezone(zone)
    if style == "date":
        return long_date(local.date())
    clock = f"{local:%H:%M} {abbreviation(local)}"
    if style == "time":
        return clock
    if style == "slot":
        return f"{clock} on {long_date(local.date())}"
    return f"{local:%d %b %Y} {clock}"


def from_local(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time in `zone`.

    A time skipped by a change to summer time raises NonexistentLocalTime; a
    time that happens twice (the hour repeated in autumn) is its first
    occurrence, the one before the clocks go back.
    """
    naive = datetime.combine(day, clock.replace(tzinfo=None, fold=0))
    local = naive.replace(tzinfo=zone)
    if as_utc(local).astimezone(zone).replace(tzinfo=None) != naive:
        raise NonexistentLocalTime(day, clock, str(zone.key))
    return as_utc(local)


def is_ambiguous(day: date, clock: time, zone: ZoneInfo) -> bool:
    """Whether the wall-clock time happens twice in `zone` that day."""
    naive = datetime.combine(day, clock.replace(tzinfo=None, fold=0))
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    return first.utcoffset() != second.utcoffset()


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant at which `day` starts in `zone` (the first valid time of the day)."""
    start = datetime.combine(day, time.min).replace(tzinfo=zone)
    return as_utc(start)
