"""Every router of the records platform, for main.py to include."""

from __future__ import annotations

from fastapi import APIRouter

from clinvault.records.appointments.request_routes import router as appointment_requests
from clinvault.records.appointments.routes import router as appointments
from clinvault.records.export.routes import router as chart_exports
from clinvault.records.medical.attachment_routes import (
    body_limit_overrides as body_limit_overrides,
)
from clinvault.records.medical.attachment_routes import router as attachments
from clinvault.records.medical.routes import patient_records
from clinvault.records.medical.routes import router as medical_records
from clinvault.records.patients.routes import router as patients

routers: list[APIRouter] = [
    patients,
    patient_records,
    medical_records,
    attachments,
    appointments,
    appointment_requests,
    chart_exports,
]
