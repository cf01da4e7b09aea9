"""My chart: the patient's own details, appointments (upcoming, requested, past with their
outcome), records, the downloads of the whole chart and "Who opened my chart"."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from fastapi import Request, Response

from clinvault import context
from clinvault.deps import ContainerDep, SessionDep
from clinvault.records.appointments.repository import AppointmentFilter
from clinvault.records.appointments.requests import cancellable
from clinvault.records.appointments.schemas import REQUESTED, SCHEDULED, AppointmentRead
from clinvault.records.appointments.service import AppointmentService
from clinvault.records.export.access import ChartAccessReport
from clinvault.records.export.schemas import outcome
from clinvault.records.export.service import ChartExportService
from clinvault.records.medical.service import MedicalRecordService
from clinvault.records.pagination import MAX_PAGE_SIZE, PageRequest
from clinvault.records.patients.service import PatientService
from clinvault.web.pages.appointments import people_names
from clinvault.web.pages.common import portal_router
from clinvault.web.pages.patients import page_count
from clinvault.web.pages.records_pages import TYPE_LABELS, latest_records
from clinvault.web.render import render
from clinvault.web.session import PortalPrincipal

router = portal_router()

NOTICES = {
    "requested": "Request sent. The clinic will confirm a time; you will see it here.",
    "cancelled": "Appointment cancelled. The practitioner has been told.",
    "withdrawn": "Request withdrawn.",
}


def split_appointments(
    items: list[AppointmentRead], now: datetime
) -> tuple[list[AppointmentRead], list[AppointmentRead], list[AppointmentRead]]:
    """(upcoming confirmed, pending requests, past or closed, newest first)."""
    upcoming = [a for a in items if a.status == SCHEDULED and a.ends_at > now]
    requests = [a for a in items if a.status == REQUESTED and a.starts_at > now]
    shown = {a.id for a in upcoming} | {a.id for a in requests}
    past = sorted((a for a in items if a.id not in shown), key=lambda a: a.starts_at, reverse=True)
    return upcoming, requests, past


@router.get("/my-chart", name="portal.my_chart.read")
async def my_chart(
    request: Request,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
    notice: str = "",
) -> Response:
    service = PatientService(session, container)
    context.describe_resource("patient")
    own = await service.own_patient_id(principal)
    if own is None:
        return render(request, "my_chart.html", {"patient": None}, principal=principal)
    patient = await service.get(principal, own)
    records, record_total = await latest_records(
        MedicalRecordService(session, container), principal, patient.id
    )
    booked = await AppointmentService(session, container).list_appointments(
        principal,
        AppointmentFilter(patient_id=patient.id),
        PageRequest(page=1, page_size=MAX_PAGE_SIZE),
    )
    now = datetime.now(UTC)
    upcoming, requests, past = split_appointments(list(booked.items), now)
    context.describe_resource("patient", patient.id)
    values: dict[str, Any] = {
        "patient": patient,
        "records": records,
        "record_total": record_total,
        "upcoming": upcoming,
        "requests": requests,
        "past": past,
        "appointment_total": booked.total,
        "cancellable": {a.id for a in upcoming if cancellable(a.starts_at, now)},
        "outcomes": {a.id: outcome(a, now, patient.user_id) for a in booked.items},
        "names": await people_names(session, container, principal),
        "type_labels": TYPE_LABELS,
        "notice": NOTICES.get(notice),
    }
    return render(request, "my_chart.html", values, principal=principal)


@router.get("/my-chart/export.json", name="portal.my_chart.export_json")
async def export_json(
    principal: PortalPrincipal, session: SessionDep, container: ContainerDep
) -> Response:
    """The whole chart as a FHIR R4 Bundle, downloaded as a file."""
    bundle = await ChartExportService(session, container).fhir_bundle(principal)
    return Response(
        json.dumps(bundle, ensure_ascii=False, indent=2),
        media_type="application/fhir+json",
        headers={"Content-Disposition": 'attachment; filename="my-health-record.json"'},
    )


@router.get("/my-chart/export.pdf", name="portal.my_chart.export_pdf")
async def export_pdf(
    principal: PortalPrincipal, session: SessionDep, container: ContainerDep
) -> Response:
    content = await ChartExportService(session, container).pdf(principal)
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": 'attachment; filename="my-health-record.pdf"'},
    )


@router.get("/my-chart/access", name="portal.my_chart.access_report")
async def access_report(
    request: Request,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
    page: int = 1,
) -> Response:
    """Who in the clinic opened or changed the chart, newest first (HIPAA access report)."""
    page = min(max(page, 1), 10_000)
    report = await ChartAccessReport(session, container).own_chart(principal, page=page)
    values = {
        "report": report,
        "page": page,
        "pages": page_count(report.total, report.limit),
    }
    return render(request, "my_access_report.html", values, principal=principal)
