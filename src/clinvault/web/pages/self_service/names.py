"""Patient names for staff pages (each one a visible patient of the organization)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.bootstrap import Container
from clinvault.identity.principal import Principal
from clinvault.records.patients.service import PatientService


async def patient_names(
    session: AsyncSession, container: Container, principal: Principal, ids: set[uuid.UUID]
) -> dict[uuid.UUID, str]:
    service = PatientService(session, container)
    names: dict[uuid.UUID, str] = {}
    for patient_id in ids:
        patient = await service.lookup(principal, patient_id)
        if patient is not None:
            names[patient_id] = f"{patient.last_name}, {patient.first_name}"
    return names
