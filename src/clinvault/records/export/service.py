"""Gathering the patient's own chart for download; only the patient may export it.

The request's audit event names the patient's chart (`chart_export`), so the
download itself appears in the audit log like any read.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.bootstrap import Container
from clinvault.errors import PatientNotFound
from clinvault.identity.principal import Principal
from clinvault.identity.users_service import UserService
from clinvault.records import policies
from clinvault.records.appointments.repository import AppointmentFilter
from clinvault.records.appointments.schemas import AppointmentRead
from clinvault.records.appointments.service import AppointmentService
from clinvault.records.export import fhir, pdf
from clinvault.records.export.schemas import ChartExport
from clinvault.records.medical.repository import RecordFilter
from clinvault.records.medical.schemas import RecordRead
from clinvault.records.medical.service import MedicalRecordService
from clinvault.records.pagination import MAX_PAGE_SIZE, PageRequest
from clinvault.records.patients.schemas import PatientRead
from clinvault.records.patients.service import PATIENT_NOT_FOUND, PatientService
from clinvault.records.policies import require
from clinvault.timeutil import utcnow

# A chart longer than this is cut (the export says so); far beyond any real chart.
MAX_PAGES = 50


class ChartExportService:
    def __init__(self, session: AsyncSession, container: Container) -> None:
        self.session = session
        self.container = container
        self.patients = PatientService(session, container)

    async def own_patient(
        self, principal: Principal, patient_id: uuid.UUID | None = None
    ) -> PatientRead:
        """The chart (the principal's own by default) if the principal is its patient.

        Another patient's chart is 404 to a patient; to staff a chart is 403 here.
        """
        context.describe_resource("patient", patient_id)
        if patient_id is None:
            patient_id = await self.patients.own_patient_id(principal)
        if patient_id is None:
            raise PatientNotFound(PATIENT_NOT_FOUND)
        patient = await self.patients.get(principal, patient_id)
        context.describe_resource("patient", patient.id)
        require(
            policies.can_export_own_chart(principal, patient.user_id),
            "Only the patient downloads their own chart.",
        )
        return patient

    async def gather(
        self, principal: Principal, patient_id: uuid.UUID | None = None
    ) -> ChartExport:
        patient = await self.own_patient(principal, patient_id)
        records_service = MedicalRecordService(self.session, self.container)
        appointments_service = AppointmentService(self.session, self.container)
        records: list[RecordRead] = []
        appointments: list[AppointmentRead] = []
        complete = True
        for page in range(1, MAX_PAGES + 1):
            request = PageRequest(page=page, page_size=MAX_PAGE_SIZE)
            found = await records_service.for_patient(
                principal, patient.id, RecordFilter(), request
            )
            records.extend(found.items)
            if len(records) >= found.total or not found.items:
                break
        else:
            complete = False
        for page in range(1, MAX_PAGES + 1):
            request = PageRequest(page=page, page_size=MAX_PAGE_SIZE)
            where = AppointmentFilter(patient_id=patient.id)
            booked = await appointments_service.list_appointments(principal, where, request)
            appointments.extend(booked.items)
            if len(appointments) >= booked.total or not booked.items:
                break
        else:
            complete = False
        names = await UserService(self.session, self.container).practitioners(principal)
        context.describe_resource("patient", patient.id)
        return ChartExport(patient, records, appointments, names, complete)

    async def fhir_bundle(
        self, principal: Principal, patient_id: uuid.UUID | None = None
    ) -> dict[str, Any]:
        chart = await self.gather(principal, patient_id)
        return fhir.bundle(chart, utcnow())

    async def pdf(self, principal: Principal) -> bytes:
        chart = await self.gather(principal)
        return pdf.render(chart, utcnow())
