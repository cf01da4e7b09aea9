"""Random actors drive the real routes; the state table is never left, quantities never lie.

A hypothesis `RuleBasedStateMachine` writes prescriptions as the doctor and then
lets the doctor, the patient and two pharmacies' pharmacists try any action on
any of them, in any order, through the live API (httpx over ASGI, the real
database). After every step it reads the prescription back and checks:

- the observed state is one of `states.STATES`;
- an accepted action moved the prescription along a row of `states.TRANSITIONS`
  for that action (from the state before to the state after), and a refused one
  (always a 4xx problem, never a 500) changed nothing;
- nothing is negative, the total dispensed never exceeds quantity x (1 + refills),
  no fill gives out more than its quantity, and what remains adds up.

Hypothesis runs in a worker thread and hands each request to the test's event
loop, where the app, the database engine and the client live.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Coroutine
from typing import Any, TypeVar

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)
from tests.integration.prescriptions.support import Loop, Party, build_loop, rx_body

from clinvault.bootstrap import Container
from clinvault.prescriptions.states import (
    STATES,
    TRANSITIONS,
    FillStatus,
    RxStatus,
    State,
    allowed_from,
)

T = TypeVar("T")
ROUTE_ACTION = {
    "sign": "sign",
    "hold": "hold",
    "resume": "resume",
    "cancel": "cancel",
    "entered-in-error": "entered-in-error",
    "pharmacy": "change-pharmacy",
    "claim": "claim",
    "decline": "decline",
    "dispense": "dispense",
}
ACTIONS = [*ROUTE_ACTION, "acknowledge-cancel", "deny-cancel"]
REFUSALS = {403, 404, 409, 422}
DETOURS = {"cancel", "entered-in-error", "change-pharmacy"}
"""Moves that end the walk or go nowhere: `advance` takes them only now and then."""
PRESCRIBER_MOVES = {"sign", "hold", "resume", "cancel", "entered-in-error"}
MAX_EXAMPLES = 25
STEPS = 30


def _state(view: dict[str, Any]) -> State:
    return State(RxStatus(view["status"]), FillStatus(view["fill_status"]), view["dispensed"] > 0)


class PrescriptionLoop(RuleBasedStateMachine):
    loop: Loop
    client: httpx.AsyncClient
    event_loop: asyncio.AbstractEventLoop
    accepted: Counter[str]

    prescriptions = Bundle("prescriptions")

    def __init__(self) -> None:
        super().__init__()
        self.views: dict[str, dict[str, Any]] = {}
        self.parties = {
            "doctor": self.loop.doctor,
            "patient": self.loop.patient,
            "pharmacist": self.loop.pharmacist,
            "pharmacist_b": self.loop.pharmacist_b,
        }

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.event_loop).result(timeout=60)

    def read(self, rx_id: str) -> dict[str, Any]:
        response = self.run(
            self.client.get(f"/api/prescriptions/{rx_id}", headers=self.loop.doctor.headers)
        )
        assert response.status_code == 200, response.text
        view: dict[str, Any] = response.json()
        return view

    @rule(
        target=prescriptions,
        quantity=st.integers(min_value=1, max_value=40),
        refills=st.integers(min_value=0, max_value=2),
    )
    def write(self, quantity: int, refills: int) -> str:
        body = rx_body(self.loop, quantity=quantity, refills_allowed=refills)
        response = self.run(
            self.client.post("/api/prescriptions/", json=body, headers=self.loop.doctor.headers)
        )
        assert response.status_code == 201, response.text
        view: dict[str, Any] = response.json()
        assert _state(view) == State(RxStatus.DRAFT, FillStatus.NONE, False)
        self.views[view["id"]] = view
        return str(view["id"])

    @rule(
        rx_id=prescriptions,
        who=st.sampled_from(["natural", "doctor", "patient", "pharmacist", "pharmacist_b"]),
        action=st.sampled_from(ACTIONS),
        quantity=st.integers(min_value=-2, max_value=45),
        to_b=st.booleans(),
    )
    def act(self, rx_id: str, who: str, action: str, quantity: int, to_b: bool) -> None:
        """Anyone tries anything: mostly refused, and a refusal must change nothing."""
        self._attempt(rx_id, who, action, quantity, to_b)

    @rule(
        rx_id=prescriptions,
        pick=st.integers(min_value=0, max_value=9999),
        quantity=st.integers(min_value=1, max_value=45),
        to_b=st.booleans(),
    )
    def advance(self, rx_id: str, pick: int, quantity: int, to_b: bool) -> None:
        """The actor the table names takes one of the actions it allows now: deep walks."""
        view = self.views[rx_id]
        rows = [t for t in allowed_from(_state(view)) if t.action.value != "expire"]
        actions = sorted({t.action.value for t in rows})
        onward = [a for a in actions if a not in DETOURS]
        choices = onward if onward and pick % 5 else actions
        if not choices:
            return
        action = choices[pick // 5 % len(choices)]
        actors = sorted({t.actor.value for t in rows if t.action.value == action})
        actor = actors[pick % len(actors)]
        if action == "dispense":
            quantity = min(quantity, int(view["fills"][-1]["remaining"]))
        route = {v: k for k, v in ROUTE_ACTION.items()}.get(action, action)
        self._attempt(rx_id, self._party_for(actor, view), route, quantity, to_b)

    def _attempt(self, rx_id: str, who: str, action: str, quantity: int, to_b: bool) -> None:
        before = self.views[rx_id]
        if who == "natural":
            who = self._natural(action, before)
        party: Party = self.parties[who]
        path, body = self._request(action, quantity, to_b)
        response = self.run(
            self.client.post(f"/api/prescriptions/{rx_id}/{path}", json=body, headers=party.headers)
        )
        after = self.read(rx_id)
        print(
            "STEP",
            who,
            action,
            response.status_code,
            _state(before).label(),
            response.text[:120] if response.status_code != 200 else "",
        )
        if response.status_code == 200:
            table_action = ROUTE_ACTION.get(path, action)
            moved = (_state(before), _state(after))
            rows = [t for t in TRANSITIONS if t.action.value == table_action]
            assert any((t.source, t.target) == moved for t in rows), (
                f"{who} {table_action}: {moved[0].label()} -> {moved[1].label()} is not a row"
            )
            if action == "dispense":
                assert after["dispensed"] == before["dispensed"] + quantity
            self.accepted[table_action if path != "cancel-decision" else action] += 1
        else:
            assert response.status_code in REFUSALS, (who, action, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            assert _state(after) == _state(before), f"refused {action} changed the state"
            assert after["version"] == before["version"], f"refused {action} changed the row"
            assert after["dispensed"] == before["dispensed"]
        self.views[rx_id] = after

    def _natural(self, action: str, view: dict[str, Any]) -> str:
        """Whoever usually does it: the prescriber, the patient, the routed pharmacy."""
        if action in PRESCRIBER_MOVES:
            return "doctor"
        return self._party_for("patient" if action == "pharmacy" else "pharmacy", view)

    def _party_for(self, actor: str, view: dict[str, Any]) -> str:
        """The party playing a state-table actor for this prescription."""
        if actor == "prescriber":
            return "doctor"
        if actor == "patient":
            return "patient"
        routed_to_b = view["pharmacy"]["id"] == str(self.loop.pharmacy_b.id)
        return "pharmacist_b" if routed_to_b else "pharmacist"

    def _request(self, action: str, quantity: int, to_b: bool) -> tuple[str, dict[str, Any]]:
        if action == "dispense":
            return action, {"quantity": quantity}
        if action == "decline":
            return action, {"reason_code": "out_of_stock", "note": "None on the shelf."}
        if action == "pharmacy":
            pharmacy = self.loop.pharmacy_b if to_b else self.loop.pharmacy
            return action, {"pharmacy_id": str(pharmacy.id)}
        if action in ("acknowledge-cancel", "deny-cancel"):
            decision = "acknowledge" if action == "acknowledge-cancel" else "deny"
            return "cancel-decision", {"decision": decision, "reason": "Already counted out."}
        return action, {}

    @invariant()
    def every_state_is_in_the_table_and_quantities_add_up(self) -> None:
        for rx_id, view in self.views.items():
            assert _state(view) in STATES, f"{rx_id}: {_state(view).label()} is not in the table"
            authorised = view["quantity"] * (1 + view["refills_allowed"])
            assert view["total_authorised"] == authorised
            assert 0 <= view["dispensed"] <= authorised
            assert view["remaining"] >= 0
            assert view["dispensed"] + view["remaining"] == authorised or view["status"] in (
                "cancelled", "stopped", "entered-in-error", "expired", "completed",
            )  # fmt: skip
            for fill in view["fills"]:
                assert 0 <= fill["dispensed"] <= fill["quantity"]
                assert fill["remaining"] >= 0
            assert sum(d["quantity"] for d in view["dispenses"]) == view["dispensed"]


async def test_random_actors_never_leave_the_state_table(
    client: httpx.AsyncClient, container: Container
) -> None:
    loop = await build_loop(client, container)
    PrescriptionLoop.loop = loop
    PrescriptionLoop.client = client
    PrescriptionLoop.event_loop = asyncio.get_running_loop()
    PrescriptionLoop.accepted = Counter()
    options = settings(
        max_examples=MAX_EXAMPLES,
        stateful_step_count=STEPS,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    await asyncio.to_thread(run_state_machine_as_test, PrescriptionLoop, settings=options)
    # The walk went somewhere: the loop's main moves were each accepted at least once.
    walked = PrescriptionLoop.accepted
    assert {"sign", "claim", "dispense", "change-pharmacy", "hold"} <= set(walked), walked
