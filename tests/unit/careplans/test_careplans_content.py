"""Pure parts of care plans: Markdown rendering, stored content, diffs, ETags, policies."""

from __future__ import annotations

import re
import uuid

import pytest

from clinvault.careplans import content
from clinvault.careplans.access import rank
from clinvault.careplans.etags import etag, parse_if_match
from clinvault.careplans.schemas import Activity, CarePlanContent
from clinvault.errors.careplans import CarePlanChanged, CarePlanInvalid

PLAN = uuid.UUID("0190a000-0000-7000-8000-000000000001")


@pytest.mark.parametrize(
    "markdown",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[x](javascript:alert(1))",
        '<a href="javascript:alert(1)">x</a>',
        "<iframe src=//evil></iframe>",
        "![x](javascript:alert(1))",
        "<svg onload=alert(1)>",
    ],
)
def test_markdown_with_script_or_html_renders_harmless(markdown: str) -> None:
    html = content.render_markdown(markdown)
    tags = re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)([^>]*)>", html)
    assert {name for name, _ in tags} <= {"p", "a", "em", "strong"}, html
    for _, attributes in tags:
        assert not re.search(r"\bon\w+\s*=", attributes), html
        assert "javascript:" not in attributes, html


def test_markdown_keeps_formatting_and_safe_links() -> None:
    html = content.render_markdown("**b** _i_\n\n- one\n\n[site](https://example.org)")
    assert "<strong>b</strong>" in html
    assert "<li>one</li>" in html
    assert 'href="https://example.org"' in html
    assert "noopener" in html


def _stored(**changes: object) -> content.ContentRead:
    data = CarePlanContent(
        title="Plan",
        goals=["a"],
        activities=[Activity(what="walk")],
        body="one\ntwo\n",
    ).model_copy(update=changes)
    return content.load(data.title, data.status.value, content.dump(data), False)


def test_dump_and_load_round_trip() -> None:
    loaded = _stored()
    assert loaded.goals == ["a"]
    assert loaded.activities[0].what == "walk"
    assert loaded.body == "one\ntwo\n"


def test_field_changes_and_body_diff() -> None:
    before = _stored()
    after = _stored(goals=["b"], body="one\nthree\n")
    changes = content.field_changes(before, after)
    assert [(c.field, c.before, c.after) for c in changes] == [("goals", ["a"], ["b"])]
    lines = content.body_diff(before.body, after.body, "version 1", "version 2")
    assert lines[:2] == ["--- version 1", "+++ version 2"]
    assert "-two" in lines
    assert "+three" in lines
    assert content.field_changes(before, before) == []


def test_etags_round_trip_and_refuse_other_plans_and_garbage() -> None:
    assert parse_if_match(etag(PLAN, 3), PLAN) == 3
    assert parse_if_match("W/" + etag(PLAN, 4), PLAN) == 4
    with pytest.raises(CarePlanChanged):
        parse_if_match(etag(uuid.uuid4(), 3), PLAN)
    for bad in ("*", '"x"', f'"{PLAN}."', f'"{PLAN}.-1"', f'"{PLAN}.1234567890"'):
        with pytest.raises(CarePlanInvalid):
            parse_if_match(bad, PLAN)


def test_levels_are_ordered() -> None:
    assert rank("view") < rank("comment") < rank("edit")
    assert rank("owner") == -1
