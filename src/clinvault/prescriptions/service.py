"""Prescription use cases of the provider organization and the patient.

The portal and the API call these (the pharmacy's side is `pharmacy.py`):

- `PrescriptionService.search_pharmacies(principal, q)`: the pharmacy directory.
- `create(principal, data)`: a draft (doctor, or nurse naming the doctor).
- `list(principal, patient_id=, status=, limit=, offset=)`: the organization's,
  or a patient's own.
- `get(principal, id)`: the full read model (the pharmacy's view for a pharmacy).
- `sign(principal, id, second_factor)`, `hold`, `resume`, `cancel`,
  `entered_in_error(principal, id, reason)`: the prescriber's moves.
- `change_pharmacy(principal, id, pharmacy_id)`: the patient or the prescriber.
- `pdf(principal, id)`: the printable copy with its verification QR code.

Every move follows `states.TRANSITIONS`; services never commit.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.bootstrap import Container
from clinvault.errors import PatientNotFound, PermissionDenied
from clinvault.errors.prescriptions import (
    PharmacyInvalid,
    PharmacySearchInvalid,
    PrescriberInvalid,
    PrescriptionNotYourDraft,
    PrescriptionRuleViolated,
)
from clinvault.identity.principal import Principal, Role
from clinvault.ids import reference
from clinvault.models.prescriptions import Prescription, PrescriptionFill, PrescriptionGrant
from clinvault.prescriptions import access, pdf, policies
from clinvault.prescriptions.controlled import check_signing
from clinvault.prescriptions.engine import Engine, Move
from clinvault.prescriptions.repository import PrescriptionRepository
from clinvault.prescriptions.rules import PrescribingPolicy, check_schedule, field_error, to_milli
from clinvault.prescriptions.schemas import (
    PharmacyRead,
    PrescriptionCreate,
    PrescriptionList,
    PrescriptionRead,
)
from clinvault.prescriptions.states import Action, Actor, RxStatus
from clinvault.prescriptions.views import Views, pharmacy_read, today, verification_url
from clinvault.prescriptions.workflows import announce
from clinvault.timeutil import utcnow

SEARCH_LIMIT = 20


class PrescriptionService:
    def __init__(self, session: AsyncSession, container: Container) -> None:
        self.session = session
        self.container = container
        self.repository = PrescriptionRepository(session)
        self.engine = Engine(session, container)
        self.views = Views(self.repository, container)

    # directory

    async def search_pharmacies(self, principal: Principal, q: str) -> list[PharmacyRead]:
        """Pharmacies by name or city: name, address and phone only."""
        context.describe_resource("pharmacy")
        organization = await access.home_organization(self.repository, principal)
        if not policies.can_search_pharmacies(principal, organization.kind):
            raise PermissionDenied("Staff and patients of a provider organization find pharmacies.")
        folded = " ".join(q.split()).casefold()
        if len(folded) < 2:
            raise PharmacySearchInvalid(
                "Type at least two characters of the pharmacy's name or city.",
                errors=field_error("q", "at least 2 characters", "query"),
            )
        rows = await self.repository.search_pharmacies_global(folded, SEARCH_LIMIT)
        return [pharmacy_read(org, profile) for org, profile in rows]

    # creating and reading

    async def create(self, principal: Principal, data: PrescriptionCreate) -> PrescriptionRead:
        """Save a draft. Checks the patient, prescriber, pharmacy, quantity and schedule."""
        context.describe_resource("prescription")
        organization = await access.home_organization(self.repository, principal)
        if not policies.can_create(principal, organization.kind):
            raise PermissionDenied("Only doctors and nurses write prescriptions.")
        tenant = principal.organization_id
        patient = await self.repository.patient(data.patient_id, tenant=tenant)
        if patient is None:
            raise PatientNotFound(
                "No patient with this id in your organization: check patient_id.",
                errors=field_error("patient_id", "not a patient of your organization"),
            )
        prescriber_id = await self._prescriber(principal, data.prescriber_id)
        await self._pharmacy(data.pharmacy_id)
        quantity = to_milli(data.quantity, data.unit)
        valid_until = check_schedule(
            schedule=data.schedule,
            refills=data.refills_allowed,
            days_supply=data.days_supply,
            issued_on=today(),
            valid_until=data.valid_until,
            earliest_fill_on=data.earliest_fill_on,
            policy=await self.policy(tenant),
        )
        rx = Prescription(
            organization_id=tenant,
            number=await self._number(),
            patient_id=patient.id,
            prescriber_id=prescriber_id,
            author_id=principal.user_id,
            pharmacy_id=data.pharmacy_id,
            medication_name=data.medication.name,
            medication_strength=data.medication.strength,
            dose_form=data.medication.dose_form,
            rxnorm_code=data.medication.rxnorm_code,
            directions=data.directions,
            notes=data.notes,
            quantity_milli=quantity,
            unit=data.unit,
            days_supply=data.days_supply,
            refills_allowed=data.refills_allowed,
            substitution_allowed=data.substitution_allowed,
            schedule=data.schedule,
            valid_until=valid_until,
            earliest_fill_on=data.earliest_fill_on,
        )
        await self.repository.add(rx)
        context.describe_resource("prescription", rx.id)
        return await self.views.full(rx, actors=self._actors(principal, rx), for_pharmacy=False)

    async def list(
        self,
        principal: Principal,
        *,
        patient_id: uuid.UUID | None = None,
        status: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> PrescriptionList:
        """Clinicians: the organization's (optionally one patient's); a patient: their own."""
        context.describe_resource("prescription")
        if not policies.can_list(principal):
            raise PermissionDenied("Only clinicians and patients list prescriptions.")
        tenant = principal.organization_id
        if policies.acts_as_patient(principal):
            own = await self.repository.patient_of_user(principal.user_id, tenant=tenant)
            if own is None or (patient_id is not None and patient_id != own.id):
                if patient_id is not None:
                    raise PatientNotFound("No such patient among yours: leave patient_id out.")
                return PrescriptionList(items=[])
            patient_id = own.id
        elif (
            patient_id is not None
            and await self.repository.patient(patient_id, tenant=tenant) is None
        ):
            raise PatientNotFound(
                "No patient with this id in your organization: check patient_id.",
                errors=field_error("patient_id", "not found", "query"),
            )
        rows = await self.repository.list_for_tenant(
            tenant=tenant, patient_id=patient_id, status=status, limit=limit, offset=offset
        )
        names = await self.repository.organizations_global([row.pharmacy_id for row in rows])
        return PrescriptionList(items=[await self.views.summary(row, names) for row in rows])

    async def get(self, principal: Principal, prescription_id: uuid.UUID) -> PrescriptionRead:
        found = await access.find(self.repository, principal, prescription_id)
        if found.for_pharmacy:
            await self.engine.audit_shared(principal, found.rx, "read")
        return await self.views.full(found.rx, actors=found.actors, for_pharmacy=found.for_pharmacy)

    # the prescriber's moves

    async def sign(
        self, principal: Principal, prescription_id: uuid.UUID, second_factor: str | None
    ) -> PrescriptionRead:
        """Activate a draft: the named prescriber only; schedule II-V need a verified,
        unexpired DEA registration and a fresh TOTP code. Releases the first fill."""
        found = await self._as(principal, prescription_id, Actor.PRESCRIBER, sign=True)
        rx = found.rx
        self.engine.transition(rx, Move(Action.SIGN, Actor.PRESCRIBER))
        if rx.valid_until < today():
            raise PrescriptionRuleViolated(
                "valid_until has passed: cancel this draft and write a new prescription.",
                errors=field_error("valid_until", "in the past"),
            )
        second = await check_signing(self.session, self.container, principal, rx, second_factor)
        await self.release_signed(principal, rx, second_factor_used=second)
        return await self.views.full(rx, actors=found.actors, for_pharmacy=False)

    async def release_signed(
        self, principal: Principal, rx: Prescription, *, second_factor_used: bool, note: str = ""
    ) -> None:
        """Activate a draft whose signing checks passed (`sign` and the demo seed call it):
        the history entry (with `note`), the first fill, the grant, the notifications."""
        values = {
            "signed_at": utcnow(),
            "signed_with_second_factor": second_factor_used,
            "fills_released": 1,
        }
        move = Move(Action.SIGN, Actor.PRESCRIBER, note=note or None)
        await self.engine.move(
            principal, rx, move, values=values, actor_name=await self._name(principal)
        )
        await self.repository.add(
            PrescriptionFill(
                organization_id=rx.organization_id,
                prescription_id=rx.id,
                sequence=1,
                status="ready",
                quantity_milli=rx.quantity_milli,
            )
        )
        await self._grant(rx, rx.pharmacy_id)
        await announce(self.session, self.container, rx, Action.SIGN, actor_id=principal.user_id)

    async def hold(
        self, principal: Principal, prescription_id: uuid.UUID, reason: str | None = None
    ) -> PrescriptionRead:
        return await self._prescriber_move(principal, prescription_id, Action.HOLD, reason)

    async def resume(
        self, principal: Principal, prescription_id: uuid.UUID, reason: str | None = None
    ) -> PrescriptionRead:
        return await self._prescriber_move(principal, prescription_id, Action.RESUME, reason)

    async def cancel(
        self, principal: Principal, prescription_id: uuid.UUID, reason: str | None = None
    ) -> PrescriptionRead:
        """Cancelled if nothing was dispensed, stopped otherwise; while a pharmacy holds
        the fill, a cancel request that the pharmacy acknowledges or denies."""
        return await self._prescriber_move(principal, prescription_id, Action.CANCEL, reason)

    async def entered_in_error(
        self, principal: Principal, prescription_id: uuid.UUID, reason: str | None = None
    ) -> PrescriptionRead:
        return await self._prescriber_move(
            principal, prescription_id, Action.ENTERED_IN_ERROR, reason
        )

    async def change_pharmacy(
        self, principal: Principal, prescription_id: uuid.UUID, pharmacy_id: uuid.UUID
    ) -> PrescriptionRead:
        """Route the unclaimed fill to another pharmacy (the patient or the prescriber)."""
        found = await access.find(self.repository, principal, prescription_id)
        actor = next((a for a in (Actor.PATIENT, Actor.PRESCRIBER) if a in found.actors), None)
        if actor is None:
            raise PermissionDenied("Only the patient and the prescriber choose the pharmacy.")
        rx = found.rx
        await self._pharmacy(pharmacy_id)
        self.engine.transition(rx, Move(Action.CHANGE_PHARMACY, actor))
        previous = rx.pharmacy_id
        if previous == pharmacy_id:
            return await self.views.full(rx, actors=found.actors, for_pharmacy=False)
        values = {
            "pharmacy_id": pharmacy_id,
            "verification_generation": rx.verification_generation + 1,
        }
        await self.engine.move(
            principal, rx, Move(Action.CHANGE_PHARMACY, actor), values=values,
            actor_name=await self._name(principal),
        )  # fmt: skip
        if rx.status != RxStatus.DRAFT:
            await self._grant(rx, pharmacy_id)
            await self._release_grant(rx, previous)
            await announce(
                self.session, self.container, rx, Action.CHANGE_PHARMACY,
                actor_id=principal.user_id, extra_pharmacies=(previous,),
            )  # fmt: skip
        return await self.views.full(rx, actors=found.actors, for_pharmacy=False)

    async def pdf(self, principal: Principal, prescription_id: uuid.UUID) -> bytes:
        """The printable prescription with a QR code of its verification link."""
        found = await access.find(self.repository, principal, prescription_id)
        read = await self.views.full(found.rx, actors=found.actors, for_pharmacy=found.for_pharmacy)
        if found.for_pharmacy:
            await self.engine.audit_shared(principal, found.rx, "pdf")
        return pdf.render(read, verification_url(self.container, found.rx))

    # helpers

    async def policy(self, tenant: uuid.UUID) -> PrescribingPolicy:
        row = await self.repository.policy(tenant=tenant)
        if row is None:
            return PrescribingPolicy()
        return PrescribingPolicy(
            row.default_validity_days, row.schedule_v_max_refills, row.schedule_v_max_days
        )

    async def _prescriber_move(
        self, principal: Principal, prescription_id: uuid.UUID, action: Action, reason: str | None
    ) -> PrescriptionRead:
        found = await self._as(principal, prescription_id, Actor.PRESCRIBER)
        rx = found.rx
        row = self.engine.transition(rx, Move(action, Actor.PRESCRIBER))
        values: dict[str, object] = {}
        if row.target.rx in (RxStatus.CANCELLED, RxStatus.STOPPED, RxStatus.ENTERED_IN_ERROR):
            values["verification_generation"] = rx.verification_generation + 1
        await self.engine.move(
            principal, rx, Move(action, Actor.PRESCRIBER, note=reason), values=values,
            actor_name=await self._name(principal),
        )  # fmt: skip
        await self.sync_fill(rx)
        if row.source.rx != RxStatus.DRAFT:
            await announce(self.session, self.container, rx, action, actor_id=principal.user_id)
        return await self.views.full(rx, actors=found.actors, for_pharmacy=False)

    async def sync_fill(self, rx: Prescription) -> None:
        """The current fill row takes the fill status of the prescription."""
        fill = await self.repository.current_fill(rx.id)
        if fill is not None and fill.status != rx.fill_status:
            fill.status = rx.fill_status
            if rx.fill_status in ("cancelled", "closed"):
                fill.closed_at = utcnow()
            await self.session.flush()

    async def _as(
        self, principal: Principal, prescription_id: uuid.UUID, actor: Actor, *, sign: bool = False
    ) -> access.Access:
        found = await access.find(self.repository, principal, prescription_id)
        if actor not in found.actors:
            if sign and principal.has(Role.DOCTOR, Role.NURSE) and not found.for_pharmacy:
                raise PrescriptionNotYourDraft(
                    "Only the prescriber named on this prescription signs it: ask them to sign."
                )
            raise PermissionDenied(
                "Only the prescriber named on this prescription may do this."
                if actor is Actor.PRESCRIBER
                else "You cannot do this with this prescription."
            )
        return found

    async def _prescriber(self, principal: Principal, given: uuid.UUID | None) -> uuid.UUID:
        if given is None or given == principal.user_id:
            if principal.has(Role.DOCTOR):
                return principal.user_id
            raise PrescriberInvalid(
                "A nurse's draft names the doctor who will sign it: set prescriber_id.",
                errors=field_error("prescriber_id", "required for nurses"),
            )
        user = await self.repository.member(given, tenant=principal.organization_id)
        if user is None or not user.is_active or not policies.is_prescribing_doctor(user.roles):
            raise PrescriberInvalid(
                "prescriber_id must be an active doctor of your organization.",
                errors=field_error("prescriber_id", "not a doctor of your organization"),
            )
        return user.id

    async def _pharmacy(self, pharmacy_id: uuid.UUID) -> None:
        if await self.repository.pharmacy_global(pharmacy_id) is None:
            raise PharmacyInvalid(
                "pharmacy_id is not a pharmacy: find one with GET /api/pharmacies?q=.",
                errors=field_error("pharmacy_id", "not an active pharmacy"),
            )

    async def _grant(self, rx: Prescription, pharmacy_id: uuid.UUID) -> None:
        grant = await self.repository.grant(rx.id, pharmacy_id)
        if grant is None:
            await self.repository.add(
                PrescriptionGrant(
                    organization_id=rx.organization_id,
                    prescription_id=rx.id,
                    grantee_organization_id=pharmacy_id,
                    scope="fulfil",
                )
            )
            return
        grant.scope, grant.revoked_at = "fulfil", None
        await self.session.flush()

    async def _release_grant(self, rx: Prescription, pharmacy_id: uuid.UUID) -> None:
        """The previous pharmacy keeps reading what it dispensed, nothing more."""
        grant = await self.repository.grant(rx.id, pharmacy_id)
        if grant is None:
            return
        if await self.repository.pharmacy_dispensed(rx.id, pharmacy_id):
            grant.scope = "history"
        else:
            grant.revoked_at = utcnow()
        await self.session.flush()

    async def _number(self) -> str:
        while True:
            number = reference(8)
            if not await self.repository.number_taken_global(number):
                return number

    async def _name(self, principal: Principal) -> str:
        user = await self.repository.member(principal.user_id, tenant=principal.organization_id)
        return user.display_name if user else ""

    def _actors(self, principal: Principal, rx: Prescription) -> frozenset[Actor]:
        return policies.provider_actors(principal, rx.prescriber_id, None)
