"""Read models of a prescription, for the provider, the patient and the pharmacy.

The pharmacy's view (`for_pharmacy=True`) carries the patient's name and date
of birth and nothing else of the chart: no patient id, no contact details.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date

from clinvault.bootstrap import Container
from clinvault.models.identity import Organization
from clinvault.models.prescriptions import PharmacyProfile, Prescription
from clinvault.prescriptions import states, tokens
from clinvault.prescriptions.engine import state_of
from clinvault.prescriptions.repository import PrescriptionRepository
from clinvault.prescriptions.rules import from_milli
from clinvault.prescriptions.schemas import (
    DispenseRead,
    EventRead,
    FillRead,
    PatientBrief,
    PharmacyRead,
    PrescriberBrief,
    PrescriptionRead,
    PrescriptionSummary,
    QueueItem,
)
from clinvault.prescriptions.states import Actor, RxStatus
from clinvault.timeutil import utcnow

VERIFY_PATH = "/pharmacy/verify/"
"""Where the printed link leads: the pharmacist's verify page (the API is
GET /api/prescriptions/verify/{token})."""


def pharmacy_read(organization: Organization, profile: PharmacyProfile | None) -> PharmacyRead:
    return PharmacyRead(
        id=organization.id,
        name=organization.name,
        address_line=profile.address_line if profile else "",
        city=profile.city if profile else "",
        postal_code=profile.postal_code if profile else "",
        phone=profile.phone if profile else "",
    )


def total_authorised(rx: Prescription) -> int:
    return rx.quantity_milli * (1 + rx.refills_allowed)


def remaining(rx: Prescription) -> int:
    return max(0, total_authorised(rx) - rx.dispensed_milli)


def verification_token(container: Container, rx: Prescription) -> str | None:
    if rx.status == RxStatus.DRAFT:
        return None
    claims = tokens.TokenClaims(rx.id, rx.verification_generation, rx.valid_until)
    return tokens.issue(container.keys, claims)


def verification_url(container: Container, rx: Prescription) -> str | None:
    token = verification_token(container, rx)
    if token is None:
        return None
    return f"{container.settings.public_url.rstrip('/')}{VERIFY_PATH}{token}"


def actions_for(rx: Prescription, actors: Iterable[Actor], today: date | None = None) -> list[str]:
    state = state_of(rx, today)
    found: dict[str, None] = {}
    for actor in actors:
        for action in states.actions_from(state, actor):
            found.setdefault(action.value, None)
    return list(found)


class Views:
    def __init__(self, repository: PrescriptionRepository, container: Container) -> None:
        self.repository = repository
        self.container = container

    async def prescriber(self, rx: Prescription) -> PrescriberBrief:
        users = await self.repository.users_global([rx.prescriber_id])
        user = users.get(rx.prescriber_id)
        npi = await self.repository.npi(rx.prescriber_id, tenant=rx.organization_id)
        dea: str | None = None
        for document in await self.repository.dea_registrations(
            rx.prescriber_id, tenant=rx.organization_id
        ):
            if document.status == "verified":
                dea = document.document_number
                break
        return PrescriberBrief(
            id=rx.prescriber_id,
            name=user.display_name if user else "",
            npi=npi,
            dea_number=dea,
        )

    async def patient(self, rx: Prescription) -> PatientBrief:
        patient = await self.repository.patient(rx.patient_id, tenant=rx.organization_id)
        assert patient is not None
        return PatientBrief(
            first_name=patient.first_name,
            last_name=patient.last_name,
            date_of_birth=patient.date_of_birth,
        )

    async def pharmacy(self, rx: Prescription) -> PharmacyRead:
        found = await self.repository.pharmacy_global(rx.pharmacy_id)
        if found is None:
            names = await self.repository.organizations_global([rx.pharmacy_id])
            return PharmacyRead(
                id=rx.pharmacy_id,
                name=names.get(rx.pharmacy_id, ""),
                address_line="",
                city="",
                postal_code="",
                phone="",
            )
        return pharmacy_read(*found)

    async def full(
        self, rx: Prescription, *, actors: Iterable[Actor], for_pharmacy: bool
    ) -> PrescriptionRead:
        fills = await self.repository.fills(rx.id)
        dispenses = await self.repository.dispenses(rx.id)
        events = await self.repository.events(rx.id)
        org_ids = [e.acting_organization_id for e in events if e.acting_organization_id]
        org_ids += [d.pharmacy_id for d in dispenses]
        names = await self.repository.organizations_global(org_ids)
        sequence_of = {fill.id: fill.sequence for fill in fills}
        state = state_of(rx)
        return PrescriptionRead(
            id=rx.id,
            number=rx.number,
            status=state.rx.value,
            fill_status=state.fill.value,
            state=state.label(),
            version=rx.version,
            patient_id=None if for_pharmacy else rx.patient_id,
            patient=await self.patient(rx),
            prescriber=await self.prescriber(rx),
            pharmacy=await self.pharmacy(rx),
            medication=rx.medication_name,
            medication_strength=rx.medication_strength,
            dose_form=rx.dose_form,
            rxnorm_code=rx.rxnorm_code,
            directions=rx.directions,
            notes=rx.notes,
            quantity=from_milli(rx.quantity_milli),
            unit=rx.unit,
            days_supply=rx.days_supply,
            refills_allowed=rx.refills_allowed,
            substitution_allowed=rx.substitution_allowed,
            schedule=rx.schedule,
            valid_until=rx.valid_until,
            earliest_fill_on=rx.earliest_fill_on,
            total_authorised=from_milli(total_authorised(rx)),
            dispensed=from_milli(rx.dispensed_milli),
            remaining=from_milli(remaining(rx)),
            fills=[
                FillRead(
                    sequence=fill.sequence,
                    status=fill.status,
                    quantity=from_milli(fill.quantity_milli),
                    dispensed=from_milli(fill.dispensed_milli),
                    remaining=from_milli(fill.quantity_milli - fill.dispensed_milli),
                    pharmacy_id=fill.pharmacy_id,
                    claimed_at=fill.claimed_at,
                    closed_at=fill.closed_at,
                )
                for fill in fills
            ],
            dispenses=[
                DispenseRead(
                    fill_sequence=sequence_of.get(d.fill_id, 0),
                    quantity=from_milli(d.quantity_milli),
                    remaining=from_milli(d.remaining_milli),
                    pharmacy_id=d.pharmacy_id,
                    pharmacy_name=names.get(d.pharmacy_id, ""),
                    dispensed_at=d.created_at,
                )
                for d in dispenses
            ],
            history=[
                EventRead(
                    occurred_at=e.occurred_at,
                    action=e.action,
                    actor_name=e.actor_name,
                    acting_organization_id=e.acting_organization_id,
                    acting_organization_name=names.get(e.acting_organization_id, "")
                    if e.acting_organization_id
                    else "",
                    from_state=e.from_state,
                    to_state=e.to_state,
                    reason_code=e.reason_code,
                    note=e.note,
                    quantity=None if e.quantity_milli is None else from_milli(e.quantity_milli),
                )
                for e in events
            ],
            actions=actions_for(rx, actors),
            has_document=rx.document_object_id is not None,
            verification_url=verification_url(self.container, rx),
            created_at=rx.created_at,
            signed_at=rx.signed_at,
        )

    async def summary(
        self, rx: Prescription, pharmacy_names: dict[uuid.UUID, str]
    ) -> PrescriptionSummary:
        state = state_of(rx)
        return PrescriptionSummary(
            id=rx.id,
            number=rx.number,
            status=state.rx.value,
            fill_status=state.fill.value,
            patient_id=rx.patient_id,
            pharmacy_id=rx.pharmacy_id,
            pharmacy_name=pharmacy_names.get(rx.pharmacy_id, ""),
            medication=rx.medication_name,
            schedule=rx.schedule,
            valid_until=rx.valid_until,
            remaining=from_milli(remaining(rx)),
            created_at=rx.created_at,
        )

    async def queue_item(self, rx: Prescription) -> QueueItem:
        state = state_of(rx)
        return QueueItem(
            id=rx.id,
            number=rx.number,
            status=state.rx.value,
            fill_status=state.fill.value,
            version=rx.version,
            medication=rx.medication_name,
            schedule=rx.schedule,
            patient=await self.patient(rx),
            remaining=from_milli(remaining(rx)),
            unit=rx.unit,
            valid_until=rx.valid_until,
            created_at=rx.created_at,
        )


def today() -> date:
    return utcnow().date()
