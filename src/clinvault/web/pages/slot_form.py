"""Reading an appointment slot from a form: day, start time and duration on the viewer's
wall clock, with every problem of the three fields reported at once in plain words."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from clinvault.localtime import NonexistentLocalTime, from_local
from clinvault.timeutil import utcnow
from clinvault.web.pages import form_errors as wording

CLOCK_SKEW = timedelta(minutes=5)
MAX_MINUTES = 24 * 60
IN_THE_PAST = "Choose a date and time that is not in the past."


def read_slot(
    values: dict[str, str], zone: ZoneInfo
) -> tuple[datetime | None, datetime | None, dict[str, str]]:
    """(start, end, errors): start and end in UTC when the day, start and minutes fields
    make a future slot in `zone`, else None and one message per faulty field."""
    errors = wording.missing(values, ("day", "start", "minutes"), wording.APPOINTMENT)
    day: date | None = None
    clock: time | None = None
    minutes = int(values["minutes"]) if values["minutes"].isdigit() else 0
    try:
        day = date.fromisoformat(values["day"]) if values["day"] else None
    except ValueError:
        errors.setdefault("day", wording.APPOINTMENT["day"].invalid)
    try:
        clock = time.fromisoformat(values["start"]) if values["start"] else None
    except ValueError:
        errors.setdefault("start", wording.APPOINTMENT["start"].invalid)
    if values["minutes"] and not 0 < minutes <= MAX_MINUTES:
        errors.setdefault("minutes", wording.APPOINTMENT["minutes"].invalid)
    if day is None or clock is None:
        return None, None, errors
    try:
        starts = from_local(day, clock, zone)
    except NonexistentLocalTime as gap:
        errors["start"] = str(gap)
        return None, None, errors
    if starts < utcnow() - CLOCK_SKEW:
        errors["start"] = IN_THE_PAST
    if errors:
        return None, None, errors
    return starts, starts + timedelta(minutes=minutes), errors
