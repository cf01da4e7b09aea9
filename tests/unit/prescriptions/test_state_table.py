"""The prescription state table: published as is, closed, and safe under random walks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from clinvault.prescriptions import states
from clinvault.prescriptions.states import (
    FINAL_RX,
    INITIAL,
    STATES,
    TRANSITIONS,
    Action,
    Actor,
    FillStatus,
    RxStatus,
    State,
    When,
)

DOC = Path(__file__).resolve().parents[3] / "docs" / "prescription-states.md"


def test_published_table_equals_the_code() -> None:
    assert DOC.read_text(encoding="utf-8") == states.render_markdown(), (
        "docs/prescription-states.md is out of date: run "
        "`python -m clinvault.prescriptions.states > docs/prescription-states.md`"
    )


def test_final_states_have_no_way_out() -> None:
    for t in TRANSITIONS:
        assert t.source.rx not in FINAL_RX, t


def test_cancelled_only_without_dispense_stopped_only_with() -> None:
    for state in STATES:
        if state.rx is RxStatus.CANCELLED:
            assert not state.dispensed, state
        if state.rx is RxStatus.STOPPED:
            assert state.dispensed, state
        if state.rx is RxStatus.ENTERED_IN_ERROR:
            assert not state.dispensed, state


def test_one_row_per_action_actor_state_and_condition() -> None:
    keys = [(t.action, t.actor, t.source, t.when) for t in TRANSITIONS]
    assert len(keys) == len(set(keys))


def test_only_the_routed_pharmacy_dispenses_and_only_the_prescriber_signs() -> None:
    for t in TRANSITIONS:
        if t.action in (Action.DISPENSE, Action.CLAIM, Action.DECLINE):
            assert t.actor is Actor.PHARMACY
        if t.action in (Action.SIGN, Action.HOLD, Action.RESUME, Action.CANCEL):
            assert t.actor is Actor.PRESCRIBER
    # A cancel never lands while a pharmacy still holds the fill: it becomes a request.
    for t in TRANSITIONS:
        if t.action is Action.CANCEL and t.source.fill in states.HELD_FILLS:
            assert t.target.fill is FillStatus.CANCEL_REQUESTED


@dataclass
class Rx:
    """A prescription as the services keep it: the table state plus quantities."""

    state: State
    quantity: int
    refills: int
    fills_released: int = 0
    fill_dispensed: int = 0
    dispensed: int = 0


def choose(rx: Rx, action: Action, amount: int) -> When | None:
    """The condition the services evaluate for an action, or None for an unusable amount."""
    if action is Action.DISPENSE:
        left = rx.quantity - rx.fill_dispensed
        if amount <= 0 or amount > left:
            return None
        if amount < left:
            return When.PARTIAL
        last = rx.fills_released >= 1 + rx.refills
        return When.LAST_FILL_DONE if last else When.FILL_DONE
    if action is Action.DENY_CANCEL:
        return When.FILL_STARTED if rx.fill_dispensed else When.FILL_UNTOUCHED
    return When.ALWAYS


class LoopMachine(RuleBasedStateMachine):
    """Random actions by random actors, applied only as the table allows."""

    def __init__(self) -> None:
        super().__init__()
        self.rx = Rx(INITIAL, quantity=30, refills=2)
        self.refused = 0

    @rule(
        action=st.sampled_from(list(Action)),
        actor=st.sampled_from(list(Actor)),
        amount=st.integers(min_value=-5, max_value=40),
    )
    def act(self, action: Action, actor: Actor, amount: int) -> None:
        rx = self.rx
        when = choose(rx, action, amount)
        rows = states.candidates(action, actor, rx.state)
        chosen = [r for r in rows if when is not None and r.when is when] or (
            rows if len(rows) == 1 and when is When.ALWAYS else []
        )
        if not chosen:
            self.refused += 1
            return
        row = chosen[0]
        assert row.source == rx.state
        if action is Action.SIGN:
            rx.fills_released = 1
        if action is Action.DISPENSE:
            rx.fill_dispensed += amount
            rx.dispensed += amount
            if row.when is When.FILL_DONE:
                rx.fills_released += 1
                rx.fill_dispensed = 0
        rx.state = row.target
        assert rx.state.dispensed == (rx.dispensed > 0)

    @precondition(lambda self: self.rx.state.rx is RxStatus.ACTIVE)
    @rule()
    def clock_passes_valid_until(self) -> None:
        rows = states.candidates(Action.EXPIRE, Actor.SYSTEM, self.rx.state)
        assert rows, f"no expiry from {self.rx.state.label()}"
        self.rx.state = rows[0].target

    @invariant()
    def never_a_forbidden_state(self) -> None:
        assert self.rx.state in STATES, self.rx.state.label()

    @invariant()
    def quantities_stay_within_bounds(self) -> None:
        rx = self.rx
        assert 0 <= rx.fill_dispensed <= rx.quantity
        assert 0 <= rx.dispensed <= rx.quantity * (1 + rx.refills)
        if rx.state.rx is RxStatus.COMPLETED:
            assert rx.dispensed == rx.quantity * (1 + rx.refills)


LoopMachine.TestCase.settings = settings(max_examples=300, stateful_step_count=40, deadline=None)
TestLoop = LoopMachine.TestCase
