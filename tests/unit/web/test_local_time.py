"""Wall-clock conversions for the portal: display with abbreviations, DST gaps and overlaps."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from markupsafe import Markup

from clinvault.localtime import (
    NonexistentLocalTime,
    abbreviation,
    format_moment,
    from_local,
    is_ambiguous,
    known_zones,
    local_midnight,
    viewer_zone,
    zone_or_none,
)
from clinvault.web.local_time import local_time, showing_in, zone_label

CHICAGO = ZoneInfo("America/Chicago")
PARIS = ZoneInfo("Europe/Paris")


def test_a_winter_and_a_summer_time_in_chicago_carry_their_own_abbreviation() -> None:
    winter = datetime(2027, 1, 12, 16, 0, tzinfo=UTC)
    summer = datetime(2027, 7, 12, 15, 0, tzinfo=UTC)
    assert format_moment(winter, CHICAGO) == "12 Jan 2027 10:00 CST"
    assert format_moment(summer, CHICAGO) == "12 Jul 2027 10:00 CDT"
    assert format_moment(winter, CHICAGO, "slot") == "10:00 CST on 12 January 2027"
    assert format_moment(winter, CHICAGO, "time") == "10:00 CST"
    assert format_moment(winter, CHICAGO, "date") == "12 January 2027"


def test_the_date_is_the_local_one_near_midnight() -> None:
    late = datetime(2027, 1, 13, 3, 30, tzinfo=UTC)
    assert format_moment(late, CHICAGO, "date") == "12 January 2027"
    assert format_moment(late, ZoneInfo("UTC")) == "13 Jan 2027 03:30 UTC"


def test_a_naive_stored_time_is_read_as_utc() -> None:
    assert format_moment(datetime(2027, 1, 12, 16, 0), CHICAGO, "time") == "10:00 CST"


def test_numeric_abbreviations_read_as_offsets_from_utc() -> None:
    noon = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)
    assert abbreviation(noon.astimezone(ZoneInfo("Asia/Kathmandu"))) == "UTC+05:45"
    assert abbreviation(noon.astimezone(ZoneInfo("America/Sao_Paulo"))) == "UTC-03"
    assert abbreviation(noon.astimezone(PARIS)) == "CEST"
    assert abbreviation(noon.astimezone(ZoneInfo("UTC"))) == "UTC"


def test_a_wall_clock_time_is_stored_as_its_utc_instant() -> None:
    assert from_local(date(2027, 1, 12), time(10, 0), CHICAGO) == datetime(
        2027, 1, 12, 16, 0, tzinfo=UTC
    )
    assert from_local(date(2027, 7, 12), time(10, 0), CHICAGO) == datetime(
        2027, 7, 12, 15, 0, tzinfo=UTC
    )


def test_a_time_skipped_by_spring_forward_is_refused_in_words() -> None:
    with pytest.raises(NonexistentLocalTime) as refused:
        from_local(date(2027, 3, 14), time(2, 30), CHICAGO)
    assert str(refused.value).startswith(
        "02:30 does not exist on 14 March 2027 in America/Chicago: the clocks go forward"
    )
    # Either side of the gap is fine.
    assert from_local(date(2027, 3, 14), time(1, 59), CHICAGO) == datetime(
        2027, 3, 14, 7, 59, tzinfo=UTC
    )
    assert from_local(date(2027, 3, 14), time(3, 0), CHICAGO) == datetime(
        2027, 3, 14, 8, 0, tzinfo=UTC
    )


def test_a_time_repeated_by_fall_back_is_its_first_occurrence() -> None:
    day, clock = date(2027, 11, 7), time(1, 30)
    assert is_ambiguous(day, clock, CHICAGO)
    assert not is_ambiguous(day, time(3, 0), CHICAGO)
    first = from_local(day, clock, CHICAGO)
    assert first == datetime(2027, 11, 7, 6, 30, tzinfo=UTC)
    assert format_moment(first, CHICAGO, "time") == "01:30 CDT"
    assert format_moment(datetime(2027, 11, 7, 7, 30, tzinfo=UTC), CHICAGO, "time") == "01:30 CST"


def test_a_local_day_starts_at_its_own_midnight() -> None:
    assert local_midnight(date(2027, 1, 12), CHICAGO) == datetime(2027, 1, 12, 6, tzinfo=UTC)
    assert local_midnight(date(2027, 7, 12), PARIS) == datetime(2027, 7, 11, 22, tzinfo=UTC)


def test_the_viewer_zone_is_the_users_then_the_organizations_then_utc() -> None:
    assert viewer_zone("Europe/Paris", "America/Chicago") == PARIS
    assert viewer_zone(None, "America/Chicago") == CHICAGO
    assert viewer_zone("", None) == ZoneInfo("UTC")
    # A name that was valid once but is unknown now falls through instead of failing the page.
    assert viewer_zone("Mars/Olympus", "America/Chicago") == CHICAGO


@pytest.mark.parametrize(
    "name", ["Mars/Olympus", "", "../../etc/passwd", "america/chicago", "localtime", " UTC"]
)
def test_only_known_iana_names_are_zones(name: str) -> None:
    assert zone_or_none(name) is None


def test_known_zones_are_sorted_and_include_utc() -> None:
    zones = known_zones()
    assert "UTC" in zones
    assert "America/Chicago" in zones
    assert list(zones) == sorted(zones)


def test_the_template_helper_prints_local_time_inside_a_utc_time_element() -> None:
    moment = datetime(2027, 1, 12, 16, 0, tzinfo=UTC)
    with showing_in(CHICAGO):
        shown = local_time(moment)
        assert shown == Markup(
            '<time datetime="2027-01-12T16:00:00+00:00">12 Jan 2027 10:00 CST</time>'
        )
        assert "12 January 2027" in local_time(date(2027, 1, 12))
        assert local_time(None) == "—"
    # Outside a page's rendering the zone is UTC again.
    assert "16:00 UTC" in local_time(moment)


def test_the_zone_label_names_the_zone_and_its_abbreviation() -> None:
    assert zone_label(CHICAGO, datetime(2027, 1, 12, tzinfo=UTC)) == "America/Chicago (CST)"
    assert zone_label(ZoneInfo("UTC"), datetime(2027, 1, 12, tzinfo=UTC)) == "UTC"
