"""Colour pairs of portal.css that carry text meet WCAG AA (4.5:1), computed from the CSS
itself: the notification badge, read and unread, and the header's text and button."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SOURCE = (Path(__file__).parents[3] / "src/clinvault/web/static/portal.css").read_text()
CSS = re.sub(r"/\*.*?\*/", "", SOURCE, flags=re.S)
AA = 4.5


def variables() -> dict[str, str]:
    root = re.search(r":root\s*\{(.*?)\}", CSS, re.S)
    assert root
    return dict(re.findall(r"(--[\w-]+):\s*([^;]+);", root.group(1)))


def declarations(selector: str) -> dict[str, str]:
    """The declarations of the rule whose selector is exactly `selector`, variables resolved."""
    block = re.search(rf"(?:^|\}})\s*{re.escape(selector)}\s*\{{(.*?)\}}", CSS, re.S)
    assert block, selector
    values = variables()
    found = dict(re.findall(r"([\w-]+):\s*([^;]+);", block.group(1)))
    return {
        name: re.sub(r"var\((--[\w-]+)[^)]*\)", lambda m: values[m.group(1)], value).strip()
        for name, value in found.items()
    }


def luminance(colour: str) -> float:
    hex_digits = colour.lstrip("#")
    if len(hex_digits) == 3:
        hex_digits = "".join(digit * 2 for digit in hex_digits)
    channels = [int(hex_digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, two: str) -> float:
    lighter, darker = sorted((luminance(one), luminance(two)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_contrast_is_computed_as_wcag_defines_it() -> None:
    assert contrast("#000", "#fff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize(
    ("text_rule", "background_rule"),
    [
        (".notification-counter__count", ".notification-counter__count"),
        (".notification-counter__count--unread", ".notification-counter__count--unread"),
        (".site-header .button--quiet", ".site-header"),
    ],
)
def test_text_on_its_background_meets_wcag_aa(text_rule: str, background_rule: str) -> None:
    text = declarations(text_rule)["color"]
    background = declarations(background_rule)["background"]
    assert contrast(text, background) >= AA, (text_rule, text, background)


def test_the_unread_badge_is_white_on_the_danger_red_at_about_6_5() -> None:
    unread = declarations(".notification-counter__count--unread")
    assert unread["color"] == "#fff"
    assert contrast(unread["color"], unread["background"]) == pytest.approx(6.5, abs=0.1)
