"""A medical record's versions side by side, and amending it from the chart.

An amendment is a new version; the amended one is kept unchanged. The record
page lists every version, newest first, each with what changed from the
version before it: the fields whose value differs, and for the content a
line-by-line difference.
"""

from __future__ import annotations

import difflib
import uuid
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request, Response
from pydantic import ValidationError

from clinvault.deps import ContainerDep, SessionDep
from clinvault.errors import MedicalRecordSuperseded, RequestInvalid
from clinvault.identity.principal import Principal
from clinvault.localtime import NonexistentLocalTime, as_utc, format_moment
from clinvault.records import policies
from clinvault.records.medical.schemas import PRIORITIES, RECORD_TYPES, RecordAmendment, RecordRead
from clinvault.records.medical.service import WRITE_DENIED, MedicalRecordService
from clinvault.records.patients.schemas import PatientRead
from clinvault.records.patients.service import PatientService
from clinvault.web.local_time import zone_of
from clinvault.web.pages import form_errors as wording
from clinvault.web.pages.appointments import people_names
from clinvault.web.pages.common import VerifiedForm, discard_changes, portal_router, see_other
from clinvault.web.pages.form_errors import plain_errors
from clinvault.web.pages.patients import app_field_errors, form_values
from clinvault.web.pages.records_pages import TYPE_LABELS, _recorded_at
from clinvault.web.render import render
from clinvault.web.session import PortalPrincipal

router = portal_router()

AMEND_FIELDS = ("record_type", "priority", "title", "content", "recorded_at")
REQUIRED = ("record_type", "priority", "title", "content")
FIELD_LABELS = {
    "record_type": "Type",
    "priority": "Priority",
    "title": "Title",
    "recorded_at": "Observed at",
    "content": "Content",
}
NOTICES = {"amended": "Amendment saved. The earlier version is kept below."}


@dataclass(frozen=True, slots=True)
class Change:
    label: str
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class Version:
    record: RecordRead
    changes: list[Change]
    # (kind, line) for the content: kind is "same", "added" or "removed".
    content_diff: list[tuple[str, str]]


def _shown(record: RecordRead, name: str, zone: ZoneInfo) -> str:
    if name == "record_type":
        return TYPE_LABELS.get(record.record_type, record.record_type)
    if name == "recorded_at":
        return format_moment(as_utc(record.recorded_at), zone)
    return str(getattr(record, name))


def _content_diff(before: str, after: str) -> list[tuple[str, str]]:
    lines: list[tuple[str, str]] = []
    kinds = {" ": "same", "+": "added", "-": "removed"}
    for line in difflib.ndiff(before.splitlines(), after.splitlines()):
        if line[:1] in kinds:
            lines.append((kinds[line[:1]], line[2:]))
    return lines


def compare(versions: list[RecordRead], zone: ZoneInfo) -> list[Version]:
    """Each version with its changes from the one before, newest first."""
    shown: list[Version] = []
    for index, record in enumerate(versions):
        previous = versions[index - 1] if index else None
        changes: list[Change] = []
        content_diff: list[tuple[str, str]] = []
        if previous is not None:
            for name in FIELD_LABELS:
                old, new = _shown(previous, name, zone), _shown(record, name, zone)
                if old == new:
                    continue
                if name == "content":
                    content_diff = _content_diff(previous.content, record.content)
                changes.append(Change(FIELD_LABELS[name], old, new))
        shown.append(Version(record, changes, content_diff))
    return list(reversed(shown))


@router.get("/records/{record_id:uuid}", name="portal.record.read")
async def record_page(
    request: Request,
    record_id: uuid.UUID,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
    notice: str = "",
) -> Response:
    versions = await MedicalRecordService(session, container).versions(principal, record_id)
    patient = await PatientService(session, container).get(principal, versions[0].patient_id)
    values = {
        "patient": patient,
        "versions": compare(versions, zone_of(request)),
        "latest": versions[-1],
        "names": await people_names(session, container, principal),
        "can_amend": policies.can_write_records(principal),
        "back": "/my-chart" if policies.acts_as_patient(principal) else f"/patients/{patient.id}",
        "notice": NOTICES.get(notice),
        "type_labels": TYPE_LABELS,
    }
    return render(request, "record_versions.html", values, principal=principal)


async def _amendable(
    session: SessionDep, container: ContainerDep, principal: Principal, record_id: uuid.UUID
) -> tuple[RecordRead, PatientRead]:
    service = MedicalRecordService(session, container)
    record = await service.get(principal, record_id)
    policies.require(policies.can_write_records(principal), WRITE_DENIED)
    patient = await PatientService(session, container).get(principal, record.patient_id)
    return record, patient


def _amend_form(
    request: Request,
    principal: Principal,
    record: RecordRead,
    patient: PatientRead,
    status_code: int = 200,
    **values: Any,
) -> Response:
    data: dict[str, Any] = {
        "record": record,
        "patient": patient,
        "values": {
            "record_type": record.record_type,
            "priority": record.priority,
            "title": record.title,
            "content": record.content,
            "recorded_at": _wall_clock(record, zone_of(request)),
        },
        "errors": {},
        "error": None,
        "record_types": RECORD_TYPES,
        "type_labels": TYPE_LABELS,
        "priorities": PRIORITIES,
    }
    data.update(values)
    return render(request, "record_amend.html", data, principal=principal, status_code=status_code)


@router.get("/records/{record_id:uuid}/amend", name="portal.record.amend_form")
async def amend_form(
    request: Request,
    record_id: uuid.UUID,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    record, patient = await _amendable(session, container, principal, record_id)
    if record.superseded_by is not None:
        return see_other(f"/records/{record.superseded_by}/amend")
    return _amend_form(request, principal, record, patient)


def _wall_clock(record: RecordRead, zone: ZoneInfo) -> str:
    """The datetime-local value of when the record was observed, in the viewer's zone."""
    return as_utc(record.recorded_at).astimezone(zone).strftime("%Y-%m-%dT%H:%M")


@router.post("/records/{record_id:uuid}/amend", name="portal.record.amend")
async def amend(
    request: Request,
    record_id: uuid.UUID,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    record, patient = await _amendable(session, container, principal, record_id)
    values = form_values(form, AMEND_FIELDS)
    errors = wording.missing(values, REQUIRED, wording.RECORD)
    body: dict[str, str | None] = {name: values[name] or None for name in REQUIRED}
    if values["recorded_at"] != _wall_clock(record, zone_of(request)):
        # else the stored instant is kept to the second
        try:
            body["recorded_at"] = _recorded_at(values["recorded_at"], zone_of(request))
        except NonexistentLocalTime as gap:
            errors["recorded_at"] = str(gap)
    data: RecordAmendment | None = None
    try:
        data = RecordAmendment.model_validate(body)
    except ValidationError as error:
        errors = {**plain_errors(error, values, wording.RECORD), **errors}
    if not errors and data is not None and _unchanged(record, data):
        errors["content"] = "Nothing was changed: edit a field, or go back to the record."
    if errors or data is None:
        return _amend_form(request, principal, record, patient, 400, values=values, errors=errors)
    try:
        amended = await MedicalRecordService(session, container).amend(principal, record.id, data)
    except (MedicalRecordSuperseded, RequestInvalid) as error:
        await discard_changes(session)
        found = app_field_errors(error)
        return _amend_form(
            request,
            principal,
            record,
            patient,
            error.status,
            values=values,
            errors=found,
            error=None if found else _superseded_text(error),
        )
    return see_other(f"/records/{amended.id}?notice=amended")


def _superseded_text(error: RequestInvalid | MedicalRecordSuperseded) -> str:
    if isinstance(error, MedicalRecordSuperseded):
        return (
            "Someone amended this record while you were editing: open the record again and "
            "amend its latest version."
        )
    return error.detail


def _unchanged(record: RecordRead, data: RecordAmendment) -> bool:
    return (
        (data.record_type or record.record_type) == record.record_type
        and (data.priority or record.priority) == record.priority
        and (data.title or record.title) == record.title
        and (data.content or record.content) == record.content
        and (data.recorded_at is None or data.recorded_at == record.recorded_at)
    )
