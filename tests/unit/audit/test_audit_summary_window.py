"""The audit views' window and hourly series: defaults, limits, empty hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from clinvault.audit.summary import (
    AuditWindowTooLarge,
    hour_index,
    hourly_series,
    resolve_window,
)
from clinvault.errors import RequestInvalid

NOW = datetime(2024, 5, 6, 10, 30, tzinfo=UTC)


def test_the_default_window_is_the_last_24_hours() -> None:
    window = resolve_window(None, None, NOW)
    assert (window.start, window.end) == (NOW - timedelta(hours=24), NOW)
    ending = resolve_window(None, NOW - timedelta(days=3), NOW)
    assert ending.start == NOW - timedelta(days=3, hours=24)


def test_offsets_are_normalized_to_utc() -> None:
    paris = timezone(timedelta(hours=2))
    window = resolve_window(datetime(2024, 5, 6, 9, 0, tzinfo=paris), None, NOW)
    assert window.start == datetime(2024, 5, 6, 7, 0, tzinfo=UTC)
    assert window.start.tzinfo is UTC


def test_an_empty_or_reversed_window_is_refused() -> None:
    with pytest.raises(RequestInvalid, match="earlier than to"):
        resolve_window(NOW, NOW, NOW)
    with pytest.raises(RequestInvalid, match="earlier than to"):
        resolve_window(NOW + timedelta(hours=1), None, NOW)


def test_at_most_31_days() -> None:
    assert resolve_window(NOW - timedelta(days=31), NOW, NOW).start == NOW - timedelta(days=31)
    with pytest.raises(AuditWindowTooLarge, match="at most 31 days") as raised:
        resolve_window(NOW - timedelta(days=31, seconds=1), NOW, NOW)
    assert raised.value.status == 422


def test_every_hour_touching_the_window_is_listed_with_zeros_filled() -> None:
    window = resolve_window(NOW - timedelta(hours=3), NOW, NOW)
    series = hourly_series(window, {hour_index(NOW - timedelta(hours=1)): 7})
    assert series == [
        (datetime(2024, 5, 6, 7, 0, tzinfo=UTC), 0),
        (datetime(2024, 5, 6, 8, 0, tzinfo=UTC), 0),
        (datetime(2024, 5, 6, 9, 0, tzinfo=UTC), 7),
        (datetime(2024, 5, 6, 10, 0, tzinfo=UTC), 0),
    ]
    aligned = resolve_window(
        datetime(2024, 5, 6, 7, tzinfo=UTC), datetime(2024, 5, 6, 9, tzinfo=UTC), NOW
    )
    assert [hour for hour, _ in hourly_series(aligned, {})] == [
        datetime(2024, 5, 6, 7, tzinfo=UTC),
        datetime(2024, 5, 6, 8, tzinfo=UTC),
    ]
