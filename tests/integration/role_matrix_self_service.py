"""The requests behind the patient self-service cases (clinvault.access_matrix.records).

A request for an appointment names no chart (the patient's own) or, in the
foreign variant, another tenant's chart. Decisions on requests need a pending
request: one is written as a row (the API lets only a chart's own patient
request, and the other scenarios' charts have no patient account). Targets
follow the role matrix's scenarios: *own* is the patient account's chart,
*someone else's* another chart of the home clinic, *other tenant* a chart of
the other clinic; a case that may change its target gets one of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from tests.integration.role_matrix_world import Request, World

from clinvault.access_matrix import Actor, Case, Scenario
from clinvault.models.records import Appointment


def _fresh(case: Case, actor: Actor) -> bool:
    expected = case.expected[actor]
    return case.method != "GET" and expected is not None and expected < 300


async def _chart(world: World, scenario: Scenario) -> str:
    if scenario is Scenario.OWN:
        own: str = world.cache["own patient"]
        return own
    foreign = scenario is Scenario.FOREIGN
    found: str = await world.once(f"patient {foreign}", lambda: world.patient(foreign=foreign))
    return found


async def request_appointment(world: World, case: Case, actor: Actor) -> Request:
    starts_at, _ = world.slot()
    window_end = datetime.fromisoformat(starts_at) + timedelta(hours=2)
    body = {
        "practitioner_id": str(world.staff["colleague"].id),
        "window_start": starts_at,
        "window_end": window_end.isoformat(),
        "reason": "Check-up",
    }
    if case.scenario is Scenario.FOREIGN:
        body["patient_id"] = await _chart(world, case.scenario)
    return Request("POST", case.path, json=body)


async def _requested(world: World, case: Case, actor: Actor) -> str:
    patient = await _chart(world, case.scenario)
    foreign = case.scenario is Scenario.FOREIGN

    async def write() -> str:
        body = world.appointment_body(patient, foreign=foreign)
        starts_at = datetime.fromisoformat(body["starts_at"])
        row = Appointment(
            organization_id=(world.other if foreign else world.home).id,
            patient_id=uuid.UUID(patient),
            practitioner_id=uuid.UUID(body["practitioner_id"]),
            starts_at=starts_at,
            ends_at=datetime.fromisoformat(body["ends_at"]),
            requested_until=starts_at + timedelta(hours=2),
            status="requested",
        )
        async with world.container.db.unit_of_work() as session:
            session.add(row)
            await session.flush()
            return str(row.id)

    if _fresh(case, actor):
        return await write()
    found: str = await world.once(f"appointment request {case.scenario}", write)
    return found


async def decide_request(world: World, case: Case, actor: Actor) -> Request:
    url = case.path.format(appointment_id=await _requested(world, case, actor))
    if case.action == "records.appointment.confirm":
        return Request("POST", url, json={"minutes": 30})
    return Request("POST", url)


async def cancel_own(world: World, case: Case, actor: Actor) -> Request:
    patient = await _chart(world, case.scenario)
    foreign = case.scenario is Scenario.FOREIGN
    if _fresh(case, actor):
        appointment = await world.appointment(patient, foreign=foreign)
    else:
        appointment = await world.once(
            f"appointment {case.scenario}", lambda: world.appointment(patient, foreign=foreign)
        )
    return Request("POST", case.path.format(appointment_id=appointment))


async def own_chart(world: World, case: Case, actor: Actor) -> Request:
    return Request("GET", case.path.format(patient_id=await _chart(world, case.scenario)))


BUILDERS: dict[str, Callable[[World, Case, Actor], Awaitable[Request]]] = {
    "records.appointment.request": request_appointment,
    "records.appointment.patient_cancel": cancel_own,
    "records.appointment.confirm": decide_request,
    "records.appointment.decline": decide_request,
    "records.patient.export": own_chart,
    "records.patient.access_report": own_chart,
}
