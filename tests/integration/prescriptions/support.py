"""The closed loop's world: a clinic, its patient, two pharmacies, a DEA-registered doctor."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
import pyotp
import sqlalchemy as sa
from tests.factories import create_org
from tests.integration.records.conftest import add_patient, member, session_for
from tests.unit.filecheck.corpus import valid_pdf

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role
from clinvault.models.credentials import CredentialDocument
from clinvault.models.identity import Organization, User
from clinvault.models.prescriptions import PharmacyProfile

VALID_NPI = "1234567893"
VALID_DEA = "AB1234563"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@dataclass
class Party:
    user: User
    headers: dict[str, str]


@dataclass
class Loop:
    clinic: Organization
    other_clinic: Organization
    pharmacy: Organization
    pharmacy_b: Organization
    doctor: Party
    colleague: Party
    nurse: Party
    clerk: Party
    org_admin: Party
    patient: Party
    stranger_patient: Party
    pharmacist: Party
    pharmacist_b: Party
    other_doctor: Party
    patient_id: str
    other_patient_id: str
    foreign_patient_id: str
    extra: dict[str, Any] = field(default_factory=dict)


async def party(container: Container, org: Organization, role: Role) -> Party:
    user, headers = await member(container, org, role)
    return Party(user, headers)


async def pharmacy_org(container: Container, name: str, city: str) -> Organization:
    org = await create_org(container, kind="pharmacy", name=name)
    async with container.db.unit_of_work() as session:
        session.add(
            PharmacyProfile(
                organization_id=org.id,
                address_line="1 Market Street",
                city=city,
                city_folded=city.casefold(),
                postal_code="94105",
                phone="+1 415 555 0100",
            )
        )
    return org


async def link_patient(
    client: httpx.AsyncClient, container: Container, clerk: Party, org: Organization, pid: str
) -> Party:
    account = await party(container, org, Role.PATIENT)
    linked = await client.post(
        f"/api/patients/{pid}/link-user",
        json={"user_id": str(account.user.id)},
        headers=clerk.headers,
    )
    assert linked.status_code == 200, linked.text
    return account


async def verified_dea(
    client: httpx.AsyncClient, doctor: Party, reviewer: Party, *, expires_in_days: int = 700
) -> str:
    """Submit the doctor's DEA registration and have the reviewer verify it; the document id."""
    profile = await client.put(
        "/api/credentials/profile", json={"npi": VALID_NPI}, headers=doctor.headers
    )
    assert profile.status_code == 200, profile.text
    today = date.today()
    entry = {
        "category": "dea_registration",
        "issuing_authority": "Drug Enforcement Administration",
        "issued_on": (today - timedelta(days=400)).isoformat(),
        "expires_on": (today + timedelta(days=expires_in_days)).isoformat(),
        "document_number": VALID_DEA,
    }
    submitted = await client.post(
        "/api/credentials/submissions",
        data={"metadata": json.dumps([entry])},
        files=[("files", ("dea.pdf", valid_pdf(), "application/pdf"))],
        headers=doctor.headers,
    )
    assert submitted.status_code == 201, submitted.text
    document = submitted.json()["documents"][0]["id"]
    url = f"/api/credentials/documents/{document}"
    assert (await client.get(url, headers=reviewer.headers)).status_code == 200
    decided = await client.post(
        f"{url}/decision", json={"decision": "verified"}, headers=reviewer.headers
    )
    assert decided.status_code == 200, decided.text
    return str(document)


async def expire_document(container: Container, document_id: str) -> None:
    """Time passes: the registration's expiry date is now yesterday."""
    async with container.db.unit_of_work() as session:
        await session.execute(
            sa.update(CredentialDocument)
            .where(CredentialDocument.id == uuid.UUID(document_id))
            .values(expires_on=date.today() - timedelta(days=1))
        )


async def enable_totp(container: Container, user: User) -> pyotp.TOTP:
    async with container.db.unit_of_work() as session:
        row = await session.get(User, user.id)
        assert row is not None
        row.mfa_secret = TOTP_SECRET
        row.mfa_enabled = True
        row.mfa_last_step = None
    return pyotp.TOTP(TOTP_SECRET)


async def build_loop(client: httpx.AsyncClient, container: Container) -> Loop:
    clinic = await create_org(container, name="Riverside Clinic")
    other_clinic = await create_org(container, name="Hillside Clinic")
    pharmacy = await pharmacy_org(container, "Main Street Pharmacy", "Springfield")
    pharmacy_b = await pharmacy_org(container, "Harbor Pharmacy", "Shelbyville")
    doctor = await party(container, clinic, Role.DOCTOR)
    clerk = await party(container, clinic, Role.CLERK)
    reviewer = await party(container, clinic, Role.CREDENTIALING_REVIEWER)
    other_clerk = await party(container, other_clinic, Role.CLERK)
    patient_id = str((await add_patient(client, clerk.headers))["id"])
    other_patient_id = str((await add_patient(client, clerk.headers, first_name="Grace"))["id"])
    foreign_patient_id = str((await add_patient(client, other_clerk.headers))["id"])
    loop = Loop(
        clinic=clinic,
        other_clinic=other_clinic,
        pharmacy=pharmacy,
        pharmacy_b=pharmacy_b,
        doctor=doctor,
        colleague=await party(container, clinic, Role.DOCTOR),
        nurse=await party(container, clinic, Role.NURSE),
        clerk=clerk,
        org_admin=await party(container, clinic, Role.ORG_ADMIN),
        patient=await link_patient(client, container, clerk, clinic, patient_id),
        stranger_patient=await link_patient(client, container, clerk, clinic, other_patient_id),
        pharmacist=await party(container, pharmacy, Role.PHARMACIST),
        pharmacist_b=await party(container, pharmacy_b, Role.PHARMACIST),
        other_doctor=await party(container, other_clinic, Role.DOCTOR),
        patient_id=patient_id,
        other_patient_id=other_patient_id,
        foreign_patient_id=foreign_patient_id,
    )
    loop.extra["reviewer"] = reviewer
    return loop


def rx_body(loop: Loop, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "patient_id": loop.patient_id,
        "pharmacy_id": str(loop.pharmacy.id),
        "medication": {"name": "Amoxicillin", "strength": "500 mg", "dose_form": "capsule"},
        "directions": "One capsule three times a day for 10 days.",
        "quantity": 30,
        "unit": "capsule",
        "days_supply": 10,
        "refills_allowed": 1,
        "notes": "Sinusitis.",
    }
    body.update(overrides)
    return body


async def draft(
    client: httpx.AsyncClient, loop: Loop, who: Party | None = None, **overrides: Any
) -> dict[str, Any]:
    response = await client.post(
        "/api/prescriptions/", json=rx_body(loop, **overrides), headers=(who or loop.doctor).headers
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def act(
    client: httpx.AsyncClient, who: Party, rx_id: str, action: str, body: Any = None
) -> httpx.Response:
    return await client.post(
        f"/api/prescriptions/{rx_id}/{action}", json=body or {}, headers=who.headers
    )


async def issued(client: httpx.AsyncClient, loop: Loop, **overrides: Any) -> dict[str, Any]:
    """A signed (active) prescription routed to the first pharmacy."""
    created = await draft(client, loop, **overrides)
    signed = await act(client, loop.doctor, created["id"], "sign")
    assert signed.status_code == 200, signed.text
    result: dict[str, Any] = signed.json()
    return result


async def session_headers(container: Container, user: User) -> dict[str, str]:
    return await session_for(container, user)
