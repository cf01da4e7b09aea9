"""The requests behind the prescription, pharmacy directory and pharmacy queue cases.

Targets by scenario (clinvault.access_matrix.prescriptions): *own* is the
doctor's prescription for the patient account's chart, routed to the
pharmacist's pharmacy; *someone else's* the colleague's, for another patient,
routed to the other pharmacy; *other tenant* the other clinic's. A case that
may change its target gets a prescription of its own in the state the action
needs (a draft, active, on hold, claimed, cancel requested).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from tests.integration.role_matrix_world import Account, Request, World
from tests.unit.filecheck.corpus import valid_pdf

from clinvault.access_matrix import Actor, Case, Scenario

SCAN = [("file", ("rx.pdf", valid_pdf(), "application/pdf"))]
Builder = Callable[[World, Case, Actor], Awaitable[Request]]


def _fresh(case: Case, actor: Actor) -> bool:
    expected = case.expected[actor]
    return case.method != "GET" and expected is not None and expected < 300


def _body(world: World, patient: str, prescriber: Account, pharmacy: str) -> dict[str, Any]:
    return {
        "patient_id": patient,
        "prescriber_id": str(prescriber.id),
        "pharmacy_id": pharmacy,
        "medication": {"name": "Amoxicillin", "strength": "500 mg", "dose_form": "capsule"},
        "directions": "One capsule three times a day.",
        "quantity": 30,
        "unit": "capsule",
        "days_supply": 10,
        "refills_allowed": 1,
    }


async def _patient(world: World, scenario: Scenario) -> str:
    if scenario is Scenario.OWN:
        own: str = world.cache["own patient"]
        return own
    foreign = scenario is Scenario.FOREIGN
    found: str = await world.once(f"patient {foreign}", lambda: world.patient(foreign=foreign))
    return found


async def _new(world: World, scenario: Scenario, state: str) -> str:
    """A prescription of the scenario in `state`: draft, active, on-hold, accepted,
    cancel-requested (active and later carry a scanned document)."""
    prescriber = {
        Scenario.OWN: world.staff["doctor"],
        Scenario.OTHERS: world.staff["colleague"],
        Scenario.FOREIGN: world.foreign["doctor"],
    }[scenario]
    pharmacy = world.pharmacy if scenario is Scenario.OWN else world.other_pharmacy
    body = _body(world, await _patient(world, scenario), prescriber, str(pharmacy.id))
    created = await world.call(prescriber, "POST", "/api/prescriptions/", json=body)
    rx = str(created["id"])
    if state == "draft":
        return rx
    await world.call(prescriber, "POST", f"/api/prescriptions/{rx}/document", files=SCAN)
    await world.call(prescriber, "POST", f"/api/prescriptions/{rx}/sign", json={})
    if state == "on-hold":
        await world.call(prescriber, "POST", f"/api/prescriptions/{rx}/hold", json={})
    if state in ("accepted", "cancel-requested"):
        assert scenario is Scenario.OWN, "only the pharmacist's own pharmacy claims"
        pharmacist = world.staff["pharmacist"]
        await world.call(pharmacist, "POST", f"/api/prescriptions/{rx}/claim", json={})
    if state == "cancel-requested":
        await world.call(prescriber, "POST", f"/api/prescriptions/{rx}/cancel", json={})
    return rx


async def _shared(world: World, scenario: Scenario, state: str) -> str:
    found: str = await world.once(f"rx {scenario} {state}", lambda: _new(world, scenario, state))
    return found


NEEDS = {
    "prescriptions.document.create": "draft",
    "prescriptions.sign": "draft",
    "prescriptions.resume": "on-hold",
    "prescriptions.dispense": "accepted",
    "prescriptions.decline": "accepted",
    "prescriptions.cancel_decision": "cancel-requested",
}
"""The state an action needs; any other action works on an active prescription."""

BODIES: dict[str, Callable[[World], Any]] = {
    "prescriptions.dispense": lambda w: {"quantity": 10},
    "prescriptions.decline": lambda w: {"reason_code": "out_of_stock", "note": "None in stock."},
    "prescriptions.cancel_decision": lambda w: {"decision": "acknowledge"},
    "prescriptions.change_pharmacy": lambda w: {"pharmacy_id": str(w.other_pharmacy.id)},
}


async def prescription_item(world: World, case: Case, actor: Actor) -> Request:
    state = NEEDS.get(case.action, "active")
    if _fresh(case, actor):
        rx = await _new(world, case.scenario, state)
    else:
        # Drafts are shared only where the case is about a draft; reads see the active one.
        rx = await _shared(world, case.scenario, "draft" if state == "draft" else "active")
    url = case.path.format(prescription_id=rx)
    if case.action == "prescriptions.document.create":
        return Request("POST", url, files=SCAN)
    if case.method == "GET":
        return Request("GET", url)
    return Request("POST", url, json=BODIES.get(case.action, lambda w: {})(world))


async def prescriptions_collection(world: World, case: Case, actor: Actor) -> Request:
    foreign = case.scenario is Scenario.FOREIGN
    if case.action == "prescriptions.create":
        patient = await _patient(world, case.scenario if foreign else Scenario.OWN)
        body = _body(world, patient, world.staff["doctor"], str(world.pharmacy.id))
        return Request("POST", case.path, json=body)
    if case.action == "prescriptions.list" and foreign:
        patient = await _patient(world, Scenario.FOREIGN)
        return Request("GET", case.path, params={"patient_id": patient})
    if case.action == "prescriptions.policy.update":
        policy = {"default_validity_days": 180, "schedule_v_max_refills": 3}
        return Request("PUT", case.path, json={**policy, "schedule_v_max_days": 120})
    if case.action == "prescriptions.verify":
        rx = await _shared(world, Scenario.OWN, "active")
        read = await world.call(world.staff["doctor"], "GET", f"/api/prescriptions/{rx}")
        token = str(read["verification_url"]).rsplit("/", 1)[1]
        return Request("GET", case.path.format(token=token))
    if case.action == "prescriptions.pharmacies.search":
        return Request("GET", case.path, params={"q": "Matrix"})
    return Request(case.method, case.path)


BUILDERS: dict[str, Builder] = {
    "prescriptions.create": prescriptions_collection,
    "prescriptions.list": prescriptions_collection,
    "prescriptions.policy.read": prescriptions_collection,
    "prescriptions.policy.update": prescriptions_collection,
    "prescriptions.verify": prescriptions_collection,
    "prescriptions.pharmacies.search": prescriptions_collection,
    "prescriptions.queue": prescriptions_collection,
    "prescriptions.read": prescription_item,
    "prescriptions.pdf": prescription_item,
    "prescriptions.document.create": prescription_item,
    "prescriptions.document.read": prescription_item,
    "prescriptions.sign": prescription_item,
    "prescriptions.hold": prescription_item,
    "prescriptions.resume": prescription_item,
    "prescriptions.cancel": prescription_item,
    "prescriptions.entered_in_error": prescription_item,
    "prescriptions.change_pharmacy": prescription_item,
    "prescriptions.claim": prescription_item,
    "prescriptions.dispense": prescription_item,
    "prescriptions.decline": prescription_item,
    "prescriptions.cancel_decision": prescription_item,
}
