"""The patient's "Who opened my chart" report: the chart's resources, then the audit events.

Only the patient of the chart asks (ChartExportService.own_patient decides);
the chart's resources are the patient itself, its medical records and its
appointments; the audit feature reads the events of the patient's own
organization on them, by anyone but the patient.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.audit.chart_access.service import ChartAccessPage, ChartAccessService
from clinvault.bootstrap import Container
from clinvault.identity.principal import Principal
from clinvault.records.export.service import ChartExportService


class ChartAccessReport:
    def __init__(self, session: AsyncSession, container: Container) -> None:
        self.exports = ChartExportService(session, container)
        self.events = ChartAccessService(session)

    async def own_chart(
        self, principal: Principal, *, page: int = 1, patient_id: uuid.UUID | None = None
    ) -> ChartAccessPage:
        chart = await self.exports.gather(principal, patient_id)
        resources = {
            "patient": [str(chart.patient.id)],
            "medical_record": [str(record.id) for record in chart.records],
            "appointment": [str(item.id) for item in chart.appointments],
        }
        size = 50
        report = await self.events.for_patient_chart(
            principal, resources, limit=size, offset=(max(page, 1) - 1) * size
        )
        context.describe_resource("chart_access_report", chart.patient.id)
        return report
