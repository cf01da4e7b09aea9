"""The prescription x fill state table, as data.

A prescription follows FHIR `MedicationRequest.status`; its current fill (one
authorised supply: the first fill or a refill) follows FHIR
`MedicationDispense`. The state of the loop is the triple
(prescription status, current fill status, whether anything was dispensed yet):
the third part decides between `cancelled` and `stopped` and whether
`entered-in-error` is still allowed.

`TRANSITIONS` is the only source of what may follow what. The service looks
the requested action up here (anything else is a 409 naming the current
state), the hypothesis stateful test walks it with random actors, and
docs/prescription-states.md is rendered from it by
`python -m clinvault.prescriptions.states > docs/prescription-states.md`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class RxStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    ON_HOLD = "on-hold"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    STOPPED = "stopped"
    ENTERED_IN_ERROR = "entered-in-error"
    EXPIRED = "expired"


class FillStatus(StrEnum):
    NONE = "none"
    """No fill exists yet (a draft), or none was ever released (a draft cancelled)."""
    READY = "ready"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in-progress"
    CANCEL_REQUESTED = "cancel-requested"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Action(StrEnum):
    SIGN = "sign"
    HOLD = "hold"
    RESUME = "resume"
    CANCEL = "cancel"
    ENTERED_IN_ERROR = "entered-in-error"
    CHANGE_PHARMACY = "change-pharmacy"
    CLAIM = "claim"
    DECLINE = "decline"
    DISPENSE = "dispense"
    ACKNOWLEDGE_CANCEL = "acknowledge-cancel"
    DENY_CANCEL = "deny-cancel"
    EXPIRE = "expire"


class Actor(StrEnum):
    PRESCRIBER = "prescriber"
    """The doctor named as the prescription's prescriber (the signer)."""
    PATIENT = "patient"
    """The patient account linked to the prescription's patient."""
    PHARMACY = "pharmacy"
    """A pharmacist of the pharmacy the prescription is routed to."""
    SYSTEM = "system"
    """The clock: valid-until has passed."""


class When(StrEnum):
    """The condition that picks one row among several for the same action and state."""

    ALWAYS = ""
    PARTIAL = "part of the fill remains"
    FILL_DONE = "the fill is complete and refills remain"
    LAST_FILL_DONE = "the last authorised fill is complete"
    FILL_UNTOUCHED = "nothing of the held fill was dispensed"
    FILL_STARTED = "part of the held fill was dispensed"


@dataclass(frozen=True, slots=True, order=True)
class State:
    rx: RxStatus
    fill: FillStatus
    dispensed: bool
    """Whether anything of the prescription (any fill) was dispensed."""

    def label(self) -> str:
        return f"{self.rx.value}/{self.fill.value}" + (" (dispensed)" if self.dispensed else "")


@dataclass(frozen=True, slots=True)
class Transition:
    action: Action
    actor: Actor
    source: State
    target: State
    when: When = When.ALWAYS


INITIAL = State(RxStatus.DRAFT, FillStatus.NONE, False)
"""Where `POST /api/prescriptions/` leaves a prescription (doctor or nurse)."""

ACTIVE_RX = (RxStatus.ACTIVE, RxStatus.ON_HOLD)
FINAL_RX = frozenset(
    {
        RxStatus.COMPLETED,
        RxStatus.CANCELLED,
        RxStatus.STOPPED,
        RxStatus.ENTERED_IN_ERROR,
        RxStatus.EXPIRED,
    }
)
HELD_FILLS = (FillStatus.ACCEPTED, FillStatus.IN_PROGRESS)
"""Fill states in which a pharmacy holds the fill."""


def _s(rx: RxStatus, fill: FillStatus, dispensed: bool) -> State:
    return State(rx, fill, dispensed)


def _build() -> tuple[Transition, ...]:
    rows: list[Transition] = []
    add = rows.append
    a, h = RxStatus.ACTIVE, RxStatus.ON_HOLD
    ready, accepted, progress = FillStatus.READY, FillStatus.ACCEPTED, FillStatus.IN_PROGRESS
    requested, cancelled = FillStatus.CANCEL_REQUESTED, FillStatus.CANCELLED
    pr, pat, ph, sys_ = Actor.PRESCRIBER, Actor.PATIENT, Actor.PHARMACY, Actor.SYSTEM

    # The prescriber signs a draft; the first fill is released to the chosen pharmacy.
    add(Transition(Action.SIGN, pr, INITIAL, _s(a, ready, False)))
    add(Transition(Action.CANCEL, pr, INITIAL, _s(RxStatus.CANCELLED, FillStatus.NONE, False)))
    add(
        Transition(
            Action.ENTERED_IN_ERROR,
            pr,
            INITIAL,
            _s(RxStatus.ENTERED_IN_ERROR, FillStatus.NONE, False),
        )
    )
    add(Transition(Action.CHANGE_PHARMACY, pr, INITIAL, INITIAL))
    for dispensed in (False, True):
        # on-hold <-> active while no pharmacy holds the fill
        add(Transition(Action.HOLD, pr, _s(a, ready, dispensed), _s(h, ready, dispensed)))
        add(Transition(Action.RESUME, pr, _s(h, ready, dispensed), _s(a, ready, dispensed)))
        for rx in ACTIVE_RX:
            unclaimed = _s(rx, ready, dispensed)
            # A fill nobody holds may move to another pharmacy.
            add(Transition(Action.CHANGE_PHARMACY, pr, unclaimed, unclaimed))
            add(Transition(Action.CHANGE_PHARMACY, pat, unclaimed, unclaimed))
            final = RxStatus.STOPPED if dispensed else RxStatus.CANCELLED
            add(Transition(Action.CANCEL, pr, unclaimed, _s(final, cancelled, dispensed)))
            add(Transition(Action.EXPIRE, sys_, unclaimed, _s(RxStatus.EXPIRED, ready, dispensed)))
            if not dispensed:
                add(
                    Transition(
                        Action.ENTERED_IN_ERROR,
                        pr,
                        unclaimed,
                        _s(RxStatus.ENTERED_IN_ERROR, cancelled, False),
                    )
                )
        # The routed pharmacy claims the fill; it may decline it back to ready.
        add(Transition(Action.CLAIM, ph, _s(a, ready, dispensed), _s(a, accepted, dispensed)))
        add(Transition(Action.DECLINE, ph, _s(a, accepted, dispensed), _s(a, ready, dispensed)))
        # A cancel while a pharmacy holds the fill waits for that pharmacy.
        add(Transition(Action.CANCEL, pr, _s(a, accepted, dispensed), _s(a, requested, dispensed)))
        final = RxStatus.STOPPED if dispensed else RxStatus.CANCELLED
        add(
            Transition(
                Action.ACKNOWLEDGE_CANCEL,
                ph,
                _s(a, requested, dispensed),
                _s(final, cancelled, dispensed),
            )
        )
        add(
            Transition(
                Action.DENY_CANCEL,
                ph,
                _s(a, requested, dispensed),
                _s(a, accepted, dispensed),
                When.FILL_UNTOUCHED,
            )
        )
        for fill in (accepted, progress, requested):
            if fill is progress and not dispensed:
                continue
            held = _s(a, fill, dispensed)
            add(Transition(Action.EXPIRE, sys_, held, _s(RxStatus.EXPIRED, fill, dispensed)))
        # Dispensing from an accepted fill (nothing of it dispensed yet).
        source = _s(a, accepted, dispensed)
        add(Transition(Action.DISPENSE, ph, source, _s(a, progress, True), When.PARTIAL))
        add(Transition(Action.DISPENSE, ph, source, _s(a, ready, True), When.FILL_DONE))
        add(
            Transition(
                Action.DISPENSE,
                ph,
                source,
                _s(RxStatus.COMPLETED, FillStatus.CLOSED, True),
                When.LAST_FILL_DONE,
            )
        )
    # A fill partly dispensed (the prescription has dispensed something, by definition).
    started = _s(a, progress, True)
    add(Transition(Action.DISPENSE, ph, started, started, When.PARTIAL))
    add(Transition(Action.DISPENSE, ph, started, _s(a, ready, True), When.FILL_DONE))
    add(
        Transition(
            Action.DISPENSE,
            ph,
            started,
            _s(RxStatus.COMPLETED, FillStatus.CLOSED, True),
            When.LAST_FILL_DONE,
        )
    )
    add(Transition(Action.CANCEL, pr, started, _s(a, requested, True)))
    add(Transition(Action.DENY_CANCEL, ph, _s(a, requested, True), started, When.FILL_STARTED))
    return tuple(rows)


TRANSITIONS: tuple[Transition, ...] = _build()

STATES: frozenset[State] = frozenset(
    {INITIAL} | {t.source for t in TRANSITIONS} | {t.target for t in TRANSITIONS}
)
"""Every state the table allows; anything else is a forbidden state."""

ACTIONS_BY_ACTOR: dict[Actor, frozenset[Action]] = {
    actor: frozenset(t.action for t in TRANSITIONS if t.actor is actor) for actor in Actor
}


def candidates(action: Action, actor: Actor, state: State) -> list[Transition]:
    """The rows for `action` by `actor` from `state` (several when a condition decides)."""
    return [t for t in TRANSITIONS if t.action is action and t.actor is actor and t.source == state]


def allowed_from(state: State) -> list[Transition]:
    return [t for t in TRANSITIONS if t.source == state]


def actions_from(state: State, actor: Actor) -> list[Action]:
    """The actions `actor` may take now, in table order, once each."""
    seen: dict[Action, None] = {}
    for t in TRANSITIONS:
        if t.source == state and t.actor is actor:
            seen.setdefault(t.action, None)
    return list(seen)


def _table(rows: Iterable[Transition]) -> list[str]:
    lines = [
        "| From | Action | By | When | To |",
        "|---|---|---|---|---|",
    ]
    for t in rows:
        lines.append(
            f"| {t.source.label()} | `{t.action.value}` | {t.actor.value} | "
            f"{t.when.value or '-'} | {t.target.label()} |"
        )
    return lines


def render_markdown() -> str:
    """docs/prescription-states.md: the table above, grouped by action."""
    lines = [
        "# Prescription states",
        "",
        "Generated from `clinvault.prescriptions.states` by",
        "`python -m clinvault.prescriptions.states > docs/prescription-states.md`;",
        "a unit test keeps the two equal. Do not edit by hand.",
        "",
        "A state is *prescription status / current fill status*, marked *(dispensed)*",
        "once anything of the prescription was dispensed. The prescription status is",
        "FHIR `MedicationRequest.status`; the fill status follows FHIR",
        "`MedicationDispense`. Any action not listed from the current state is",
        "refused with 409 `prescription_state_conflict`, naming the current state.",
        "`expired` is computed from valid-until on every read and every action (the",
        "clock is the actor): an expired prescription takes no further action.",
        "",
        "Actors: **prescriber** is the doctor named on the prescription (a nurse",
        "writes drafts for a doctor to sign); **patient** is the patient's own",
        "account; **pharmacy** is a pharmacist of the pharmacy the prescription is",
        "routed to (through a live grant); **system** is the clock.",
        "",
        "A dispense never exceeds what remains of the fill; the total dispensed never",
        "exceeds quantity x (1 + refills). A decline releases the fill to `ready`",
        "with a coded reason and tells the prescriber.",
        "",
        f"{len(STATES)} states, {len(TRANSITIONS)} transitions.",
        "",
    ]
    for action in Action:
        rows = [t for t in TRANSITIONS if t.action is action]
        if not rows:
            continue
        lines += [f"## `{action.value}`", "", *_table(rows), ""]
    lines += ["## States", ""]
    lines += [f"- {state.label()}" for state in sorted(STATES)]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(render_markdown(), end="")
