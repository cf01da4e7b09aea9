"""Apply one row of the state table: check, compare-and-set, history, audit.

Every move of a prescription goes through `Engine.move`: the action must be
a row of `states.TRANSITIONS` from the current state for that actor (else
409 naming the state), the row version must be the one read (else 409), and
the history entry and the audit facts are written in the same transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.bootstrap import Container
from clinvault.errors.prescriptions import (
    PrescriptionStateConflict,
    PrescriptionVersionConflict,
)
from clinvault.identity.principal import Principal
from clinvault.models.prescriptions import Prescription, PrescriptionEvent
from clinvault.prescriptions import states
from clinvault.prescriptions.repository import PrescriptionRepository
from clinvault.prescriptions.states import Action, Actor, FillStatus, RxStatus, State, When
from clinvault.timeutil import utcnow

ROUTE_ACTIONS = {
    "acknowledge-cancel": "prescriptions.cancel_decision",
    "deny-cancel": "prescriptions.cancel_decision",
    "document": "prescriptions.document.read",
}
"""The audit action (route name) of a state-table action, where the two differ."""


def is_expired(rx: Prescription, today: date) -> bool:
    return rx.status in (RxStatus.ACTIVE, RxStatus.ON_HOLD) and rx.valid_until < today


def state_of(rx: Prescription, today: date | None = None) -> State:
    """The current state, `expired` included once valid-until has passed."""
    status = RxStatus(rx.status)
    if is_expired(rx, today or utcnow().date()):
        status = RxStatus.EXPIRED
    return State(status, FillStatus(rx.fill_status), rx.dispensed_milli > 0)


@dataclass(frozen=True, slots=True)
class Move:
    action: Action
    actor: Actor
    when: When = When.ALWAYS
    reason_code: str | None = None
    note: str | None = None
    quantity_milli: int | None = None
    expected_version: int | None = None


class Engine:
    def __init__(self, session: AsyncSession, container: Container) -> None:
        self.session = session
        self.container = container
        self.repository = PrescriptionRepository(session)

    def transition(self, rx: Prescription, move: Move) -> states.Transition:
        """The table row for `move` from the current state, or a 409 naming the state."""
        state = state_of(rx)
        rows = states.candidates(move.action, move.actor, state)
        chosen = [row for row in rows if row.when is move.when] or (
            rows if len(rows) == 1 and move.when is When.ALWAYS else []
        )
        if not chosen:
            possible = ", ".join(a.value for a in states.actions_from(state, move.actor))
            context.note_detail(f"state_conflict:{state.label()}")
            raise PrescriptionStateConflict(
                f"Prescription {rx.number} is {state.label()}: '{move.action.value}' is not "
                f"possible now. Possible for you from here: {possible or 'nothing'}.",
                errors=[{"field": "state", "in": "path", "message": state.label()}],
            )
        return chosen[0]

    async def move(
        self,
        principal: Principal | None,
        rx: Prescription,
        move: Move,
        *,
        values: dict[str, Any] | None = None,
        actor_name: str = "",
    ) -> states.Transition:
        """Check and write one transition; `values` are further columns of the same write."""
        row = self.transition(rx, move)
        read_version = rx.version
        if move.expected_version is not None and move.expected_version != read_version:
            raise PrescriptionVersionConflict(
                f"Prescription {rx.number} changed since version {move.expected_version} "
                f"(now {read_version}): reload it and try again.",
                errors=[{"field": "version", "in": "body", "message": "stale"}],
            )
        update = {"status": row.target.rx.value, "fill_status": row.target.fill.value}
        update.update(values or {})
        if not await self.repository.compare_and_set(rx, read_version, update):
            raise PrescriptionVersionConflict(
                f"Prescription {rx.number} was changed by someone else at the same moment: "
                "reload it and try again."
            )
        await self.repository.add(
            PrescriptionEvent(
                organization_id=rx.organization_id,
                prescription_id=rx.id,
                occurred_at=utcnow(),
                action=move.action.value,
                actor_id=principal.user_id if principal else None,
                actor_name=actor_name[:200],
                acting_organization_id=principal.organization_id if principal else None,
                from_state=row.source.label(),
                to_state=row.target.label(),
                reason_code=move.reason_code,
                note=move.note,
                quantity_milli=move.quantity_milli,
            )
        )
        await self.audit_shared(principal, rx, move.action.value)
        return row

    async def audit_shared(self, principal: Principal | None, rx: Prescription, what: str) -> None:
        """Name the resource; for shared work, copy the event into the other tenant's log.

        The pharmacy's acts appear in the provider's audit view and, once the
        prescription is signed and routed, the provider's acts in the pharmacy's,
        each naming the acting organization.
        """
        context.describe_resource("prescription", rx.id)
        if principal is None:
            return
        acting: uuid.UUID = principal.organization_id
        other = rx.pharmacy_id if acting == rx.organization_id else rx.organization_id
        if other == acting or (other == rx.pharmacy_id and rx.status == RxStatus.DRAFT):
            return
        context.note_detail(f"{what};acting_organization={acting};shared_with={other}")
        ctx = context.current()
        if ctx is not None:
            await self.container.audit.record_for_tenant(
                self.session,
                ctx,
                organization_id=other,
                detail=f"{what};acting_organization={acting}",
                action=ROUTE_ACTIONS.get(what, f"prescriptions.{what.replace('-', '_')}"),
            )
