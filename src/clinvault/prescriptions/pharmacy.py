"""The pharmacy's side of the loop: queue, claim, dispense, decline, cancel requests, verify.

The portal and the API call:

- `PharmacyService.queue(principal, bucket)`: new | in_progress | rejected | completed.
- `claim(principal, id, version)`: take the ready fill (one pharmacy wins).
- `dispense(principal, id, quantity, version)`: a partial or full fill.
- `decline(principal, id, reason_code, note)`: release the fill, tell the prescriber.
- `decide_cancel(principal, id, decision, reason)`: acknowledge or deny a cancel request.
- `verify(principal, token)`: is a paper copy genuine, its state, what remains.

A pharmacist acts only through a live grant of their pharmacy organization.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.bootstrap import Container
from clinvault.errors import PermissionDenied, RequestInvalid
from clinvault.errors.prescriptions import (
    PharmacyQueueNotFound,
    PrescriptionQuantityInvalid,
    PrescriptionTooEarly,
    VerificationTokenExpired,
    VerificationTokenInvalid,
    VerificationTokenSuperseded,
)
from clinvault.identity.principal import Principal
from clinvault.models.prescriptions import PrescriptionDispense, PrescriptionFill
from clinvault.prescriptions import access, policies, states, tokens
from clinvault.prescriptions.engine import Engine, Move, state_of
from clinvault.prescriptions.repository import PrescriptionRepository
from clinvault.prescriptions.rules import field_error, format_quantity, from_milli, to_milli
from clinvault.prescriptions.schemas import (
    PrescriptionRead,
    QueueBucket,
    QueueRead,
    VerificationRead,
)
from clinvault.prescriptions.service import PrescriptionService
from clinvault.prescriptions.states import Action, Actor, When
from clinvault.prescriptions.views import Views, remaining, today
from clinvault.prescriptions.workflows import announce
from clinvault.timeutil import utcnow

BUCKETS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "new": (("active",), ("ready",)),
    "in_progress": (("active",), ("accepted", "in-progress", "cancel-requested")),
    "completed": (("completed", "cancelled", "stopped", "expired"), ("closed", "cancelled")),
}


class PharmacyService:
    def __init__(self, session: AsyncSession, container: Container) -> None:
        self.session = session
        self.container = container
        self.repository = PrescriptionRepository(session)
        self.engine = Engine(session, container)
        self.views = Views(self.repository, container)
        self.prescriptions = PrescriptionService(session, container)

    async def queue(self, principal: Principal, bucket: QueueBucket) -> QueueRead:
        """The pharmacy's work queue; a 404 outside a pharmacy organization."""
        context.describe_resource("pharmacy_queue")
        organization = await access.home_organization(self.repository, principal)
        if organization.kind != policies.PHARMACY:
            raise PharmacyQueueNotFound(
                "Your organization is not a pharmacy: there is no work queue here."
            )
        if not policies.is_pharmacy_staff(principal, organization.kind):
            raise PermissionDenied("Only pharmacists work the pharmacy queue.")
        if bucket == "rejected":
            rows = list(await self.repository.declined_by(grantee=organization.id))
            rows = [row for row in rows if row.fill_status == "ready"]
        else:
            statuses, fills = BUCKETS[bucket]
            rows = list(
                await self.repository.queue(
                    grantee=organization.id, statuses=statuses, fill_statuses=fills
                )
            )
            if bucket != "completed":
                rows = [row for row in rows if row.valid_until >= today()]
            if bucket == "new":
                rows = [row for row in rows if row.pharmacy_id == organization.id]
        return QueueRead(bucket=bucket, items=[await self.views.queue_item(row) for row in rows])

    async def claim(
        self, principal: Principal, prescription_id: uuid.UUID, version: int | None = None
    ) -> PrescriptionRead:
        found = await self._pharmacy(principal, prescription_id)
        rx = found.rx
        move = Move(Action.CLAIM, Actor.PHARMACY, expected_version=version)
        await self.engine.move(principal, rx, move, actor_name=await self._name(principal))
        fill = await self._fill(rx.id)
        fill.status, fill.pharmacy_id, fill.claimed_at = (
            "accepted",
            principal.organization_id,
            utcnow(),
        )
        await self.session.flush()
        await announce(self.session, self.container, rx, Action.CLAIM, actor_id=principal.user_id)
        return await self.views.full(rx, actors=found.actors, for_pharmacy=True)

    async def dispense(
        self,
        principal: Principal,
        prescription_id: uuid.UUID,
        quantity: Decimal,
        version: int | None = None,
    ) -> PrescriptionRead:
        """Hand over `quantity` of the held fill; never more than remains of it."""
        found = await self._pharmacy(principal, prescription_id)
        rx = found.rx
        if not states.candidates(Action.DISPENSE, Actor.PHARMACY, state_of(rx)):
            self.engine.transition(rx, Move(Action.DISPENSE, Actor.PHARMACY))  # the 409
        amount = to_milli(quantity, rx.unit)
        fill = await self._fill(rx.id)
        left = fill.quantity_milli - fill.dispensed_milli
        if amount > left:
            raise PrescriptionQuantityInvalid(
                f"Only {format_quantity(left)} {rx.unit} remain of this fill: dispense at most "
                "that much.",
                errors=field_error("quantity", f"more than the {format_quantity(left)} remaining"),
            )
        if rx.earliest_fill_on is not None and today() < rx.earliest_fill_on:
            raise PrescriptionTooEarly(
                f"Prescription {rx.number} may not be filled before {rx.earliest_fill_on}."
            )
        done = amount == left
        last = rx.fills_released >= 1 + rx.refills_allowed
        when = When.PARTIAL if not done else (When.LAST_FILL_DONE if last else When.FILL_DONE)
        values: dict[str, object] = {"dispensed_milli": rx.dispensed_milli + amount}
        if when is When.FILL_DONE:
            values["fills_released"] = rx.fills_released + 1
        move = Move(
            Action.DISPENSE, Actor.PHARMACY, when, quantity_milli=amount, expected_version=version
        )
        await self.engine.move(
            principal, rx, move, values=values, actor_name=await self._name(principal)
        )
        fill.dispensed_milli += amount
        fill.status = "closed" if done else "in-progress"
        if done:
            fill.closed_at = utcnow()
        self.session.add(
            PrescriptionDispense(
                organization_id=rx.organization_id,
                prescription_id=rx.id,
                fill_id=fill.id,
                pharmacy_id=principal.organization_id,
                pharmacist_id=principal.user_id,
                quantity_milli=amount,
                remaining_milli=remaining(rx),
            )
        )
        if when is When.FILL_DONE:
            self.session.add(
                PrescriptionFill(
                    organization_id=rx.organization_id,
                    prescription_id=rx.id,
                    sequence=fill.sequence + 1,
                    status="ready",
                    quantity_milli=rx.quantity_milli,
                )
            )
        await self.session.flush()
        await announce(
            self.session, self.container, rx, Action.DISPENSE, actor_id=principal.user_id
        )
        return await self.views.full(rx, actors=found.actors, for_pharmacy=True)

    async def decline(
        self, principal: Principal, prescription_id: uuid.UUID, reason_code: str, note: str
    ) -> PrescriptionRead:
        found = await self._pharmacy(principal, prescription_id)
        rx = found.rx
        move = Move(Action.DECLINE, Actor.PHARMACY, reason_code=reason_code, note=note)
        await self.engine.move(principal, rx, move, actor_name=await self._name(principal))
        fill = await self._fill(rx.id)
        fill.status, fill.pharmacy_id, fill.claimed_at = "ready", None, None
        await self.session.flush()
        await announce(self.session, self.container, rx, Action.DECLINE, actor_id=principal.user_id)
        return await self.views.full(rx, actors=found.actors, for_pharmacy=True)

    async def decide_cancel(
        self, principal: Principal, prescription_id: uuid.UUID, decision: str, reason: str | None
    ) -> PrescriptionRead:
        """Acknowledge the prescriber's cancel (cancelled or stopped) or deny it with a reason."""
        found = await self._pharmacy(principal, prescription_id)
        rx = found.rx
        fill = await self._fill(rx.id)
        if decision == "deny":
            if not reason:
                raise RequestInvalid(
                    "Say why you deny the cancellation: send a reason.",
                    errors=field_error("reason", "required to deny"),
                )
            when = When.FILL_STARTED if fill.dispensed_milli > 0 else When.FILL_UNTOUCHED
            move = Move(Action.DENY_CANCEL, Actor.PHARMACY, when, note=reason)
            values: dict[str, object] = {}
        else:
            move = Move(Action.ACKNOWLEDGE_CANCEL, Actor.PHARMACY, note=reason)
            values = {"verification_generation": rx.verification_generation + 1}
        await self.engine.move(
            principal, rx, move, values=values, actor_name=await self._name(principal)
        )
        await self.prescriptions.sync_fill(rx)
        await announce(self.session, self.container, rx, move.action, actor_id=principal.user_id)
        return await self.views.full(rx, actors=found.actors, for_pharmacy=True)

    async def verify(self, principal: Principal, token: str) -> VerificationRead:
        """Genuine or not, the state and what remains; a forged, altered, expired or
        replaced token is refused."""
        context.describe_resource("prescription")
        organization = await access.home_organization(self.repository, principal)
        if not policies.is_pharmacy_staff(principal, organization.kind):
            raise PermissionDenied("Only pharmacists verify prescriptions.")
        try:
            claims = tokens.read(self.container.keys, token)
        except tokens.TokenRefused:
            context.note_detail("verification_token_invalid")
            raise VerificationTokenInvalid(
                "This verification link is not genuine (altered, truncated or forged): do not "
                "dispense; contact the prescriber.",
                errors=field_error("token", "signature does not match", "path"),
            ) from None
        rx = await self.repository.get_global(claims.prescription_id)
        if rx is None:
            raise VerificationTokenInvalid(
                "This verification link names no prescription: do not dispense.",
                errors=field_error("token", "unknown prescription", "path"),
            )
        context.describe_resource("prescription", rx.id)
        if claims.expires_on < today():
            raise VerificationTokenExpired(
                f"This verification link expired on {claims.expires_on}: the prescription may "
                "no longer be filled."
            )
        if claims.generation != rx.verification_generation:
            raise VerificationTokenSuperseded(
                "This paper copy was replaced (the prescription was moved or cancelled): ask "
                "the patient for the current one or contact the prescriber."
            )
        await self.engine.audit_shared(principal, rx, "verify")
        state = state_of(rx)
        return VerificationRead(
            genuine=True,
            number=rx.number,
            status=state.rx.value,
            remaining=from_milli(remaining(rx)),
            unit=rx.unit,
        )

    async def _pharmacy(self, principal: Principal, prescription_id: uuid.UUID) -> access.Access:
        found = await access.find(self.repository, principal, prescription_id)
        if Actor.PHARMACY not in found.actors:
            raise PermissionDenied(
                "Only a pharmacist of the pharmacy this prescription is routed to may do this."
            )
        return found

    async def _fill(self, prescription_id: uuid.UUID) -> PrescriptionFill:
        fill = await self.repository.current_fill(prescription_id)
        assert fill is not None, "a released prescription has a fill"
        return fill

    async def _name(self, principal: Principal) -> str:
        user = await self.repository.member(principal.user_id, tenant=principal.organization_id)
        return user.display_name if user else ""
