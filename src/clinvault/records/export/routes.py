"""HTTP routes of the patient's own chart: the FHIR Bundle and the access report.

Both answer the chart's patient only: another patient's chart is 404, and staff
(who see the chart elsewhere) get 403.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from clinvault.audit.chart_access.service import ChartAccess
from clinvault.deps import ContainerDep, PrincipalDep, SessionDep
from clinvault.records.export.access import ChartAccessReport
from clinvault.records.export.service import ChartExportService

router = APIRouter(prefix="/api/patients", tags=["patients"])


class ChartAccessRead(BaseModel):
    occurred_at: datetime
    actor_id: uuid.UUID
    name: str
    roles: str
    organization: str
    action: str
    what: str
    outcome: str


class ChartAccessReportRead(BaseModel):
    items: list[ChartAccessRead]
    total: int
    limit: int
    offset: int


def _read(access: ChartAccess) -> ChartAccessRead:
    return ChartAccessRead.model_validate(access, from_attributes=True)


@router.get(
    "/{patient_id}/export",
    name="records.patient.export",
    response_class=Response,
    responses={200: {"content": {"application/fhir+json": {}}, "description": "FHIR Bundle"}},
)
async def export_chart(
    patient_id: uuid.UUID, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> Response:
    """The patient's whole chart as a FHIR R4 Bundle (type collection); the patient only."""
    bundle = await ChartExportService(session, container).fhir_bundle(principal, patient_id)
    return Response(json.dumps(bundle, ensure_ascii=False), media_type="application/fhir+json")


@router.get("/{patient_id}/access-report", name="records.patient.access_report")
async def access_report(
    patient_id: uuid.UUID,
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
    page: int = Query(default=1, ge=1, le=10_000),
) -> ChartAccessReportRead:
    """Who in the organization opened or changed the chart, newest first; the patient only."""
    report = await ChartAccessReport(session, container).own_chart(
        principal, page=page, patient_id=patient_id
    )
    return ChartAccessReportRead(
        items=[_read(item) for item in report.items],
        total=report.total,
        limit=report.limit,
        offset=report.offset,
    )
