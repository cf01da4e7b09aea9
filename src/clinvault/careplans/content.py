"""A version's content as stored (one encrypted JSON document), rendered and compared.

Pure functions: the body is Markdown, rendered with raw HTML disabled and the
result sanitized again by nh3, so a script or an event handler in the body is
shown as text or dropped, never run.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

import nh3
from markdown_it import MarkdownIt

from clinvault.careplans.schemas import (
    ActivityRead,
    CarePlanContent,
    ContentRead,
    FieldChange,
)
from clinvault.careplans.states import ActivityStatus, PlanStatus
from clinvault.inputs import parse_json

_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
COMPARED = ("title", "status", "period_start", "period_end", "goals", "activities")


def render_markdown(body: str) -> str:
    """Safe HTML of a Markdown body."""
    return nh3.clean(_MARKDOWN.render(body), link_rel="noopener noreferrer nofollow")


def dump(data: CarePlanContent) -> str:
    """The encrypted column's plaintext: everything but title, status and the patient flag."""
    return json.dumps(
        {
            "period_start": None if data.period_start is None else data.period_start.isoformat(),
            "period_end": None if data.period_end is None else data.period_end.isoformat(),
            "goals": list(data.goals),
            "activities": [activity.model_dump(mode="json") for activity in data.activities],
            "body": data.body,
        },
        separators=(",", ":"),
        sort_keys=True,
    )


STORED_CONTENT_MAX_BYTES = 8 * 1024 * 1024
STORED_CONTENT_MAX_DEPTH = 8


def decode(content: str) -> dict[str, Any]:
    """A version's stored content (written by `dump`) as a dict, through the bounded parser."""
    stored: dict[str, Any] = parse_json(
        content,
        max_depth=STORED_CONTENT_MAX_DEPTH,
        max_bytes=STORED_CONTENT_MAX_BYTES,
        source="The stored care-plan content",
    )
    return stored


def load(title: str, status: str, content: str, shared_with_patient: bool) -> ContentRead:
    stored = decode(content)
    body = str(stored.get("body", ""))
    return ContentRead(
        title=title,
        status=PlanStatus(status),
        period_start=stored.get("period_start"),
        period_end=stored.get("period_end"),
        goals=[str(goal) for goal in stored.get("goals", [])],
        activities=[
            ActivityRead(
                what=item["what"],
                who=item.get("who"),
                when=item.get("when"),
                status=ActivityStatus(item.get("status", ActivityStatus.NOT_STARTED)),
            )
            for item in stored.get("activities", [])
        ],
        body=body,
        body_html=render_markdown(body),
        shared_with_patient=shared_with_patient,
    )


def field_changes(before: ContentRead, after: ContentRead) -> list[FieldChange]:
    """The fields that differ, with both values (the body is compared line by line)."""
    old = before.model_dump(mode="json")
    new = after.model_dump(mode="json")
    fields = (*COMPARED, "shared_with_patient")
    return [
        FieldChange(field=name, before=old[name], after=new[name])
        for name in fields
        if old[name] != new[name]
    ]


def body_diff(before: str, after: str, from_label: str, to_label: str) -> list[str]:
    """A unified diff of the two bodies, one entry per line, without line endings."""
    return [
        line.rstrip("\n")
        for line in difflib.unified_diff(
            before.splitlines(), after.splitlines(), from_label, to_label, lineterm=""
        )
    ]
