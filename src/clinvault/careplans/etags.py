"""The ETag of a plan version, `"<plan id>.<number>"`, and reading it back from If-Match."""

from __future__ import annotations

import uuid

from clinvault.errors.careplans import CarePlanChanged, CarePlanInvalid


def etag(plan_id: uuid.UUID, number: int) -> str:
    return f'"{plan_id}.{number}"'


def parse_if_match(header: str, plan_id: uuid.UUID) -> int:
    """The version number an If-Match names; a tag of another plan or `*` is refused."""
    value = header.strip()
    if value.startswith("W/"):
        value = value[2:]
    value = value.strip('"')
    if value == "*":
        raise CarePlanInvalid(
            'If-Match "*" does not say which version you read: send the ETag of that version.'
        )
    plan_part, _, number = value.rpartition(".")
    if not number.isdigit() or len(number) > 9:
        raise CarePlanInvalid(
            "If-Match is not an ETag of this API: send the ETag header of the plan as you read it."
        )
    if plan_part != str(plan_id):
        raise CarePlanChanged("If-Match names another plan: send the ETag of this plan.")
    return int(number)
