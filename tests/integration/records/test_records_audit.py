"""Every records request leaves one audit event naming the resource, never PHI."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import select
from tests.integration.records.conftest import Clinic, add_patient, add_record

from clinvault.bootstrap import Container
from clinvault.models.audit import AuditEvent


async def _events(container: Container, prefix: str = "records.") -> list[AuditEvent]:
    for _ in range(50):
        async with container.db.sessions() as session:
            rows = (
                await session.scalars(
                    select(AuditEvent)
                    .where(AuditEvent.action.like(f"{prefix}%"))
                    .order_by(AuditEvent.seq)
                )
            ).all()
        if rows:
            return list(rows)
        await asyncio.sleep(0.05)
    return []


async def test_actions_resources_and_outcomes(
    client: httpx.AsyncClient, container: Container, clinic: Clinic
) -> None:
    patient = await add_patient(client, clinic.headers["clerk"], last_name="Quixotelle")
    await client.get(f"/api/patients/{patient['id']}", headers=clinic.headers["doctor"])
    await client.put(
        f"/api/patients/{patient['id']}",
        json={"last_name": "Other"},
        headers=clinic.headers["nurse"],
    )
    await client.get(
        "/api/patients/search", params={"q": "quixo"}, headers=clinic.headers["doctor"]
    )
    record = await add_record(client, clinic.headers["doctor"], patient["id"], content="Qxsecret")
    await client.get(f"/api/records/{record['id']}", headers=clinic.headers["clerk"])

    events = await _events(container)
    summary = [(e.action, e.resource_type, e.resource_id, e.outcome, e.status_code) for e in events]
    assert summary == [
        ("records.patient.create", "patient", patient["id"], "success", 201),
        ("records.patient.read", "patient", patient["id"], "success", 200),
        ("records.patient.update", "patient", patient["id"], "denied", 403),
        ("records.patient.search", "patient", None, "success", 200),
        ("records.record.create", "medical_record", record["id"], "success", 201),
        ("records.record.read", "medical_record", record["id"], "denied", 403),
    ]
    assert events[0].actor_id == clinic.users["clerk"].id
    assert {e.organization_id for e in events} == {clinic.org.id}
    for event in events:
        text = " ".join(str(getattr(event, column.key)) for column in AuditEvent.__table__.columns)
        for secret in ("Quixotelle", "quixo", "Qxsecret", "Ada", "1985-12-10", "penicillin"):
            assert secret not in text, (event.action, secret)
