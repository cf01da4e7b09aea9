"""What a chart export holds, before it is shaped as JSON or PDF."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from clinvault.records.appointments.schemas import CANCELLED, SCHEDULED, AppointmentRead
from clinvault.records.medical.schemas import RecordRead
from clinvault.records.patients.schemas import PatientRead


@dataclass(frozen=True, slots=True)
class ChartExport:
    patient: PatientRead
    records: list[RecordRead]
    appointments: list[AppointmentRead]
    practitioners: dict[uuid.UUID, str]
    complete: bool

    def practitioner_name(self, practitioner_id: uuid.UUID) -> str:
        return self.practitioners.get(practitioner_id, "Clinic staff")


def outcome(appointment: AppointmentRead, now: datetime, patient_user: uuid.UUID | None) -> str:
    """The appointment's outcome in words, as the patient reads it."""
    if appointment.status == CANCELLED:
        if appointment.cancelled_by is not None and appointment.cancelled_by == patient_user:
            return "Cancelled by you"
        return "Cancelled by the clinic"
    if appointment.status == "declined":
        return "Request declined by the clinic"
    if appointment.status == "requested":
        return (
            "Requested, waiting for the clinic"
            if appointment.starts_at > now
            else "Request expired"
        )
    if appointment.status == "no_show":
        return "Missed (no-show)"
    if appointment.status == SCHEDULED and appointment.ends_at <= now:
        return "Completed"
    if appointment.status == SCHEDULED:
        return "Confirmed"
    return appointment.status.replace("_", " ").capitalize()
