"""The audit viewer's activity chart: server-rendered SVG geometry with labelled axes.

Pure: hours and counts in, bars, ticks and axis positions out. The template
draws them inside an <svg role="img"> with a title and a description, and
repeats the numbers in a table for those who cannot see the chart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from clinvault.audit.schemas import HourCount

WIDTH = 720
HEIGHT = 240
LEFT = 56  # room for the count labels and the vertical axis title
RIGHT = 12
TOP = 12
BOTTOM = 52  # room for the time labels and the horizontal axis title
MAX_TIME_TICKS = 6


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str


@dataclass(frozen=True, slots=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    left: int
    top: int
    bottom: float  # y of the time axis
    right: float  # x where the plot ends
    bars: list[Bar]
    count_ticks: list[Tick]
    time_ticks: list[Tick]
    peak: int
    busiest: HourCount | None


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5 x 10^k at or above `value` (at least 1): round axis tops."""
    if value <= 1:
        return 1
    power: int = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def _count_label(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def _time_label(hour: datetime, previous: datetime | None) -> str:
    if previous is None or hour.date() != previous.date():
        return f"{hour:%d %b %H:%M}"
    return f"{hour:%H:%M}"


def activity_chart(hours: list[HourCount]) -> Chart:
    """Bars per UTC hour on a count axis from 0 to a round top, time ticks below."""
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    axis_y = float(TOP + plot_height)
    peak = max((hour.count for hour in hours), default=0)
    top = nice_ceiling(peak)
    slot = plot_width / len(hours) if hours else float(plot_width)
    bars: list[Bar] = []
    for index, hour in enumerate(hours):
        height = round(plot_height * hour.count / top, 2)
        noun = "event" if hour.count == 1 else "events"
        bars.append(
            Bar(
                x=round(LEFT + index * slot + slot * 0.1, 2),
                y=round(axis_y - height, 2),
                width=round(max(slot * 0.8, 0.5), 2),
                height=height,
                label=f"{hour.hour:%d %b %H:00} UTC: {hour.count} {noun}",
            )
        )
    count_ticks = [
        Tick(position=round(axis_y - plot_height * fraction, 2), label=_count_label(top * fraction))
        for fraction in (0.0, 0.5, 1.0)
        if fraction == 0 or top * fraction == int(top * fraction)
    ]
    step = max(1, math.ceil(len(hours) / MAX_TIME_TICKS))
    time_ticks: list[Tick] = []
    previous: datetime | None = None
    for index in range(0, len(hours), step):
        moment = hours[index].hour
        time_ticks.append(
            Tick(position=round(LEFT + index * slot, 2), label=_time_label(moment, previous))
        )
        previous = moment
    busiest = max(hours, key=lambda item: item.count) if peak else None
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        top=TOP,
        bottom=axis_y,
        right=float(WIDTH - RIGHT),
        bars=bars,
        count_ticks=count_ticks,
        time_ticks=time_ticks,
        peak=peak,
        busiest=busiest,
    )
