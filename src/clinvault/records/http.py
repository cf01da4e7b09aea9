"""HTTP helpers shared by the records routes: paging and time-window parameters."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import Depends, Query

from clinvault.errors import RequestInvalid
from clinvault.inputs import PageNumber
from clinvault.records.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PageRequest

WINDOW_FORMAT = (
    "a date (YYYY-MM-DD, UTC) or a timezone-aware date-time such as 2024-05-01T09:00:00Z"
)


def page_request(
    page: Annotated[PageNumber, Query(description="Page number, from 1")] = 1,
    page_size: Annotated[
        int | None,
        Query(ge=1, le=MAX_PAGE_SIZE, description=f"Items per page (at most {MAX_PAGE_SIZE})"),
    ] = None,
    per_page: Annotated[
        int | None,
        Query(ge=1, le=MAX_PAGE_SIZE, description="The records-platform name of page_size"),
    ] = None,
) -> PageRequest:
    if page_size is not None and per_page is not None and page_size != per_page:
        raise RequestInvalid(
            "page_size and per_page name the same thing; send one of them.",
            errors=[{"field": "per_page", "in": "query", "message": "differs from page_size"}],
        )
    size = page_size if page_size is not None else per_page
    return PageRequest(page=page, page_size=size if size is not None else DEFAULT_PAGE_SIZE)


PageDep = Annotated[PageRequest, Depends(page_request)]


def _instant(name: str, value: str | None, *, end: bool) -> datetime | None:
    if value is None:
        return None
    text = value.strip()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        day = None
    if day is not None and len(text) == 10:
        start = datetime.combine(day, time.min, tzinfo=UTC)
        return start + timedelta(days=1) if end else start
    try:
        parsed: datetime | None = datetime.fromisoformat(text)
    except ValueError:
        parsed = None
    if parsed is None or parsed.utcoffset() is None:
        reason = "no time zone was given" if parsed is not None else "not a date"
        message = f"{name} must be {WINDOW_FORMAT}"
        raise RequestInvalid(
            f"{message} ({reason}).",
            errors=[{"field": name, "in": "query", "message": message, "type": "datetime"}],
        )
    return parsed


def time_window(
    from_: Annotated[
        str | None, Query(alias="from", max_length=40, description=f"From: {WINDOW_FORMAT}")
    ] = None,
    to: Annotated[
        str | None,
        Query(max_length=40, description=f"Until (a date includes the whole day): {WINDOW_FORMAT}"),
    ] = None,
) -> tuple[datetime | None, datetime | None]:
    """[from, to) as aware datetimes; a plain date `to` includes that whole day."""
    start = _instant("from", from_, end=False)
    stop = _instant("to", to, end=True)
    if start is not None and stop is not None and stop <= start:
        raise RequestInvalid(
            "'to' must be after 'from'.",
            errors=[{"field": "to", "in": "query", "message": "must be after from"}],
        )
    return start, stop


WindowDep = Annotated[tuple[datetime | None, datetime | None], Depends(time_window)]
