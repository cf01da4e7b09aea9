"""Times in the portal: shown and read on the viewer's wall clock.

`require_principal` stores the viewer's zone on the request (the user's,
else the organization's, else UTC); `render` makes it current while a
template renders, so the one template helper `local_time(moment, style)`
(and the `when` macro built on it) prints every time in that zone with its
abbreviation, inside a `<time>` element that carries the UTC instant.
Pages read form times with `zone_of(request)` and store UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from zoneinfo import ZoneInfo

from fastapi import Request
from markupsafe import Markup

from clinvault.localtime import UTC_NAME, Style, abbreviation, as_utc, format_moment, long_date

_UTC = ZoneInfo(UTC_NAME)
_current: ContextVar[ZoneInfo] = ContextVar("portal_time_zone", default=_UTC)


def zone_of(request: Request) -> ZoneInfo:
    """The viewer's zone for this request (UTC before sign-in)."""
    zone = getattr(request.state, "time_zone", None)
    return zone if isinstance(zone, ZoneInfo) else _UTC


@contextmanager
def showing_in(zone: ZoneInfo) -> Iterator[None]:
    """Make `zone` the one `local_time` uses, for the rendering of one template."""
    token = _current.set(zone)
    try:
        yield
    finally:
        _current.reset(token)


def local_time(moment: datetime | date | None, style: Style = "datetime") -> Markup:
    """`<time datetime="UTC">12 Mar 2026 10:00 CST</time>` in the current viewer's zone."""
    if moment is None:
        return Markup("—")
    if not isinstance(moment, datetime):
        return Markup('<time datetime="{}">{}</time>').format(moment.isoformat(), long_date(moment))
    instant = as_utc(moment)
    text = format_moment(instant, _current.get(), style)
    return Markup('<time datetime="{}">{}</time>').format(
        instant.isoformat(timespec="seconds"), text
    )


def zone_label(zone: ZoneInfo, at: datetime) -> str:
    """ "America/Chicago (CST)": the zone's name and its abbreviation at `at`."""
    name = str(zone.key)
    short = abbreviation(as_utc(at).astimezone(zone))
    return name if short == name else f"{name} ({short})"
