"""Demo prescriptions: one in every state of the loop, so each role sees its part.

The demo doctor gets a practitioner profile (NPI) and a verified DEA
registration; the demo pharmacy a directory entry. The prescriptions are
written for the patient linked to patient@healthcare.com and routed to the
demo pharmacy, through the same services as the API: a draft, active (new in
the pharmacy's queue), on hold, accepted, partly dispensed, completed,
declined, cancelled, stopped, cancel-requested, entered-in-error, and a
signed schedule II prescription. Nothing is added when that patient already
has prescriptions, so a second run changes nothing.

The schedule II prescription is signed through the same rules as any other
(`_sign_controlled`): written through `PrescriptionService.create` (schedule
limits, earliest-fill date), then the DEA rule of `controlled.check_signing`
against the doctor's verified registration seeded here. Only the second
factor is not presented, and the history says so: the demo accounts sign in
with a password and enrol no authenticator (so that anyone can try each role
from the printed logins), and a TOTP code cannot be made without a secret the
demo would have to enrol, and then print, for every run. The row records
`signed_with_second_factor = false`; a real signature through the API or the
portal cannot be made that way (`POST /api/prescriptions/{id}/sign` refuses a
controlled substance without a fresh code).
"""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from reportlab.pdfgen.canvas import Canvas
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.bootstrap import Container
from clinvault.cli.common import audited
from clinvault.cli.lookups import organization_by_slug, user_by_email
from clinvault.identity.principal import Principal, Role
from clinvault.ids import reference
from clinvault.models.credentials import (
    CredentialDocument,
    CredentialSubmission,
    PractitionerProfile,
)
from clinvault.models.objects import EncryptedObject
from clinvault.models.prescriptions import PharmacyProfile, Prescription
from clinvault.prescriptions.controlled import check_dea_registration
from clinvault.prescriptions.pharmacy import PharmacyService
from clinvault.prescriptions.repository import PrescriptionRepository
from clinvault.prescriptions.schemas import Medication, PrescriptionCreate
from clinvault.prescriptions.service import PrescriptionService
from clinvault.timeutil import utcnow

DEMO_NPI = "1234567893"
DEMO_DEA = "AD1234563"


@dataclass
class DemoPrescriptionsResult:
    created: int = 0
    skipped_reason: str = ""


def _pdf(title: str) -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    canvas.drawString(72, 720, title)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _body(patient_id: Any, pharmacy_id: Any, name: str, **extra: Any) -> PrescriptionCreate:
    values: dict[str, Any] = {
        "patient_id": patient_id,
        "pharmacy_id": pharmacy_id,
        "medication": Medication(name=name, strength="500 mg", dose_form="tablet"),
        "directions": "One tablet twice a day with food.",
        "quantity": Decimal(30),
        "unit": "tablet",
        "days_supply": 15,
        "refills_allowed": 1,
    }
    values.update(extra)
    return PrescriptionCreate(**values)


async def seed_prescriptions(
    container: Container, provider_slug: str, pharmacy_slug: str, domain: str
) -> DemoPrescriptionsResult:
    result = DemoPrescriptionsResult()
    async with audited(container, "demo", "demo.prescriptions") as (session, ctx):
        provider = await organization_by_slug(session, provider_slug)
        pharmacy = await organization_by_slug(session, pharmacy_slug)
        doctor = await user_by_email(session, f"doctor@{domain}")
        pharmacist = await user_by_email(session, f"pharmacist@{domain}")
        patient_user = await user_by_email(session, f"patient@{domain}")
        if (
            provider is None
            or pharmacy is None
            or doctor is None
            or pharmacist is None
            or patient_user is None
        ):
            result.skipped_reason = "demo organizations or accounts missing"
            return result
        repository = PrescriptionRepository(session)
        patient = await repository.patient_of_user(patient_user.id, tenant=provider.id)
        if patient is None:
            result.skipped_reason = "no demo patient linked to the patient account"
            return result
        ctx.organization_hint = provider.id
        ctx.resource_type = "prescription"
        if await repository.pharmacy_profile_global(pharmacy.id) is None:
            session.add(
                PharmacyProfile(
                    organization_id=pharmacy.id,
                    address_line="200 Market Street",
                    city="Springfield",
                    city_folded="springfield",
                    postal_code="62701",
                    phone="+1 217 555 0142",
                )
            )
        await _practitioner(container, session, provider.id, doctor.id)
        existing = await repository.list_for_tenant(
            tenant=provider.id, patient_id=patient.id, status=None, limit=1, offset=0
        )
        if existing:
            result.skipped_reason = "the demo patient already has prescriptions"
            return result
        prescriber = Principal(doctor.id, provider.id, frozenset({Role.DOCTOR}))
        pharmacy_side = Principal(pharmacist.id, pharmacy.id, frozenset({Role.PHARMACIST}))
        service = PrescriptionService(session, container)
        counter = PharmacyService(session, container)

        async def new(name: str, **extra: Any) -> Any:
            read = await service.create(prescriber, _body(patient.id, pharmacy.id, name, **extra))
            result.created += 1
            return read.id

        async def signed(name: str, **extra: Any) -> Any:
            rx_id = await new(name, **extra)
            await service.sign(prescriber, rx_id, None)
            return rx_id

        await new("Metformin")  # draft
        await signed("Amoxicillin")  # active, new in the pharmacy queue
        await service.hold(prescriber, await signed("Lisinopril"), "Review blood pressure first.")
        await counter.claim(pharmacy_side, await signed("Atorvastatin"))  # accepted
        partly = await signed("Omeprazole")
        await counter.claim(pharmacy_side, partly)
        await counter.dispense(pharmacy_side, partly, Decimal(10))  # in progress
        done = await signed("Cetirizine", refills_allowed=0)
        await counter.claim(pharmacy_side, done)
        await counter.dispense(pharmacy_side, done, Decimal(30))  # completed
        declined = await signed("Ibuprofen")
        await counter.claim(pharmacy_side, declined)
        await counter.decline(pharmacy_side, declined, "out_of_stock", "Expected next week.")
        await service.cancel(prescriber, await signed("Naproxen"), "Changed treatment.")
        stopped = await signed("Prednisone")
        await counter.claim(pharmacy_side, stopped)
        await counter.dispense(pharmacy_side, stopped, Decimal(5))
        await service.cancel(prescriber, stopped, "Course ended early.")
        await counter.decide_cancel(pharmacy_side, stopped, "acknowledge", None)  # stopped
        requested = await signed("Doxycycline")
        await counter.claim(pharmacy_side, requested)
        await service.cancel(prescriber, requested, "Wrong antibiotic.")  # cancel-requested
        await service.entered_in_error(prescriber, await signed("Warfarin"), "Wrong patient.")
        controlled = await new(
            "Oxycodone",
            schedule="II",
            refills_allowed=0,
            days_supply=10,
            quantity=Decimal(20),
            earliest_fill_on=date.today(),
        )
        found = await repository.get(controlled, tenant=provider.id)
        assert found is not None
        await _sign_controlled(service, repository, prescriber, found)
    return result


DEMO_SIGNATURE_NOTE = (
    "Seeded by clinvault demo: signed without a second factor, since the demo accounts "
    "enrol no authenticator."
)


async def _sign_controlled(
    service: PrescriptionService,
    repository: PrescriptionRepository,
    prescriber: Principal,
    rx: Prescription,
) -> None:
    """Sign the demo's controlled prescription by the signing rules, minus the second factor."""
    await check_dea_registration(repository, prescriber, rx)
    await service.release_signed(prescriber, rx, second_factor_used=False, note=DEMO_SIGNATURE_NOTE)


async def _practitioner(
    container: Container, session: AsyncSession, organization: uuid.UUID, doctor: uuid.UUID
) -> None:
    """The demo doctor's NPI and a verified, unexpired DEA registration."""
    repository = PrescriptionRepository(session)
    profile = await repository.practitioner_profile(doctor, tenant=organization)
    if profile is None:
        session.add(
            PractitionerProfile(
                organization_id=organization,
                user_id=doctor,
                npi=DEMO_NPI,
                specialty="Family medicine",
            )
        )
    elif profile.npi is None:
        profile.npi = DEMO_NPI
    documents = await repository.dea_registrations(doctor, tenant=organization)
    if any(d.status == "verified" for d in documents):
        return
    today = utcnow().date()
    submission = CredentialSubmission(
        organization_id=organization,
        practitioner_id=doctor,
        reference=reference(),
        estimated_review_by=today,
    )
    session.add(submission)
    await session.flush()
    key = f"orgs/{organization}/credentials/{doctor}/demo-dea/v1"
    stored = await container.objects.put(key, _once(_pdf("DEA registration (demo)")))
    blob = EncryptedObject(
        organization_id=organization,
        storage_key=key,
        wrapped_key=stored.wrapped_key,
        key_version=stored.key_version,
        plaintext_size=stored.plaintext_size,
        sha256=stored.sha256,
        content_type="application/pdf",
    )
    session.add(blob)
    await session.flush()
    session.add(
        CredentialDocument(
            organization_id=organization,
            submission_id=submission.id,
            practitioner_id=doctor,
            object_id=blob.id,
            category="dea_registration",
            issuing_authority="Drug Enforcement Administration",
            issued_on=today - timedelta(days=365),
            expires_on=today + timedelta(days=730),
            document_number=DEMO_DEA,
            filename="dea-registration.pdf",
            status="verified",
            review_workflow_id=f"demo-{submission.id}",
            decided_at=utcnow(),
        )
    )
    await session.flush()
