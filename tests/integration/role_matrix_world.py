"""The world the role matrix runs in, and the concrete request behind every case.

Two provider organizations: `home`, where every actor but two works, and
`other`, the other tenant; the platform administrator lives in the operators'
tenant and the pharmacist in a pharmacy (roles are limited by the kind of
organization), so the provider's objects are another tenant's to both. A
second pharmacy receives the prescriptions that are not routed to the
pharmacist's.
Targets are made through the public API by the organization's own staff, as a
client would. A request that changes state gets a target of its own, made just
before it is sent, so that no case depends on what another case did.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from tests.factories import (
    auth_headers,
    create_org,
    create_platform_admin,
    create_user,
    login,
    unique_npi,
)
from tests.unit.filecheck.corpus import valid_pdf

from clinvault.access_matrix import Actor
from clinvault.bootstrap import Container
from clinvault.identity.principal import Role
from clinvault.models.identity import Organization
from clinvault.models.prescriptions import PharmacyProfile
from clinvault.notifications.service import notify

ATTACHMENT = [("file", ("scan.pdf", valid_pdf(), "application/pdf"))]
HOME_ROLES: dict[str, list[Role]] = {
    "org_admin": [Role.ORG_ADMIN],
    "doctor": [Role.DOCTOR],
    "nurse": [Role.NURSE],
    "clerk": [Role.CLERK],
    "credentialing_reviewer": [Role.CREDENTIALING_REVIEWER],
    "patient": [Role.PATIENT],
    "colleague": [Role.DOCTOR],
}
OTHER_ROLES: dict[str, list[Role]] = {
    "org_admin": [Role.ORG_ADMIN],
    "clerk": [Role.CLERK],
    "doctor": [Role.DOCTOR],
}


@dataclass
class Account:
    id: uuid.UUID
    organization_id: uuid.UUID
    headers: dict[str, str]


@dataclass
class Request:
    method: str
    url: str
    params: dict[str, str] = field(default_factory=dict)
    json: Any = None
    data: dict[str, str] | None = None
    files: list[tuple[str, tuple[str, bytes, str]]] | None = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    """Sent besides the actor's credentials (e.g. `If-Match`)."""


@dataclass
class World:
    client: httpx.AsyncClient
    container: Container
    home: Organization
    other: Organization
    staff: dict[str, Account]
    """Home accounts by role name, plus `colleague`: a second doctor, owner of others' things,
    and `pharmacist`, who works at `pharmacy`."""
    foreign: dict[str, Account]
    admin: Account
    pharmacy: Organization
    """The pharmacist's pharmacy: the prescriptions of the own scenario are routed here."""
    other_pharmacy: Organization
    """Where the prescriptions of the other scenarios are routed."""
    slots: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    cache: dict[str, Any] = field(default_factory=dict)
    api_client: Account | None = None
    """An API client of `home` holding the `ingest` scope, with its client-credentials token."""

    def account(self, actor: Actor) -> Account | None:
        if actor is Actor.ANONYMOUS:
            return None
        if actor is Actor.API_CLIENT:
            return self.api_client
        return self.admin if actor is Actor.ADMIN else self.staff[actor.value]

    async def call(self, who: Account, method: str, url: str, **kwargs: Any) -> Any:
        """A setup request that must succeed; returns the JSON body."""
        response = await self.client.request(method, url, headers=who.headers, **kwargs)
        assert response.status_code < 300, f"setup {method} {url}: {response.text}"
        return response.json() if response.content else None

    def tenant(self, foreign: bool) -> dict[str, Account]:
        return self.foreign if foreign else self.staff

    # Targets -------------------------------------------------------------

    async def patient(self, *, foreign: bool = False) -> str:
        body = {
            "first_name": "Matrix",
            "last_name": f"Case{next(self.slots)}",
            "date_of_birth": "1980-04-02",
            "gender": "female",
            "allergies": "none known",
        }
        created = await self.call(
            self.tenant(foreign)["clerk"], "POST", "/api/patients/", json=body
        )
        return str(created["id"])

    async def record(self, patient_id: str, *, foreign: bool = False) -> str:
        body = {
            "patient_id": patient_id,
            "record_type": "note",
            "title": "Follow-up",
            "content": "Routine follow-up, no change.",
            "priority": "normal",
        }
        created = await self.call(
            self.tenant(foreign)["doctor"], "POST", "/api/records/", json=body
        )
        return str(created["id"])

    async def attachment(self, record_id: str, *, foreign: bool = False) -> str:
        created = await self.call(
            self.tenant(foreign)["doctor"],
            "POST",
            f"/api/records/{record_id}/attachments",
            files=ATTACHMENT,
        )
        return str(created["id"])

    def slot(self) -> tuple[str, str]:
        day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        start = day + timedelta(days=30, hours=next(self.slots))
        return start.isoformat(), (start + timedelta(minutes=30)).isoformat()

    def appointment_body(self, patient_id: str, *, foreign: bool = False) -> dict[str, str]:
        starts_at, ends_at = self.slot()
        practitioner = self.foreign["doctor"] if foreign else self.staff["colleague"]
        return {
            "patient_id": patient_id,
            "practitioner_id": str(practitioner.id),
            "starts_at": starts_at,
            "ends_at": ends_at,
            "reason": "Check-up",
        }

    async def appointment(self, patient_id: str, *, foreign: bool = False) -> str:
        body = self.appointment_body(patient_id, foreign=foreign)
        created = await self.call(
            self.tenant(foreign)["clerk"], "POST", "/api/appointments/", json=body
        )
        return str(created["id"])

    async def user(self, *, foreign: bool = False) -> str:
        organization = self.other if foreign else self.home
        created = await create_user(self.container, organization, roles=[Role.NURSE], password=None)
        return str(created.id)

    def submission_form(self) -> dict[str, Any]:
        metadata = [
            {
                "category": "medical_license",
                "issuing_authority": "State Medical Board",
                "issued_on": "2020-01-15",
                "expires_on": "2035-01-15",
                "document_number": f"MD-{next(self.slots):06d}",
            }
        ]
        return {
            "data": {"metadata": json.dumps(metadata)},
            "files": [("files", ("license.pdf", valid_pdf(), "application/pdf"))],
        }

    async def submission(self, owner: Account) -> tuple[str, str]:
        """(reference, document id) of a new one-document submission by `owner`."""
        created = await self.call(
            owner, "POST", "/api/credentials/submissions", **self.submission_form()
        )
        return str(created["reference"]), str(created["documents"][0]["id"])

    async def notification(self, owner: Account) -> str:
        key = f"matrix-{next(self.slots)}"
        async with self.container.db.unit_of_work() as session:
            await notify(
                session,
                organization_id=owner.organization_id,
                user_ids=[owner.id],
                kind="matrix",
                title="Matrix notification",
                body="Nothing to see.",
                link=None,
                dedupe_key=key,
            )
        listed = await self.call(owner, "GET", "/api/notifications")
        return str(listed["items"][0]["id"])

    async def once(self, key: str, make: Callable[[], Awaitable[Any]]) -> Any:
        if key not in self.cache:
            self.cache[key] = await make()
        return self.cache[key]


async def _account(
    client: httpx.AsyncClient, container: Container, org: Organization, roles: list[Role]
) -> Account:
    user = await create_user(container, org, roles=roles)
    tokens = await login(client, user.email)
    return Account(user.id, org.id, auth_headers(tokens["access_token"]))


async def _pharmacy(container: Container, name: str) -> Organization:
    organization = await create_org(container, kind="pharmacy", name=name)
    async with container.db.unit_of_work() as session:
        session.add(
            PharmacyProfile(
                organization_id=organization.id,
                address_line="2 Matrix Row",
                city="Springfield",
                city_folded="springfield",
                postal_code="94105",
                phone="+1 415 555 0199",
            )
        )
    return organization


async def build_world(client: httpx.AsyncClient, container: Container) -> World:
    home = await create_org(container, name="Home Clinic")
    other = await create_org(container, name="Other Clinic")
    pharmacy = await _pharmacy(container, "Matrix Pharmacy")
    other_pharmacy = await _pharmacy(container, "Other Matrix Pharmacy")
    pharmacist = await _account(client, container, pharmacy, [Role.PHARMACIST])
    accounts = await asyncio.gather(
        *(_account(client, container, home, roles) for roles in HOME_ROLES.values()),
        *(_account(client, container, other, roles) for roles in OTHER_ROLES.values()),
    )
    staff = dict(zip(HOME_ROLES, accounts[: len(HOME_ROLES)], strict=True))
    staff["pharmacist"] = pharmacist
    foreign = dict(zip(OTHER_ROLES, accounts[len(HOME_ROLES) :], strict=True))
    admin_user = await create_platform_admin(container)
    admin_tokens = await login(client, admin_user.email)
    admin = Account(
        admin_user.id, admin_user.organization_id, auth_headers(admin_tokens["access_token"])
    )
    world = World(client, container, home, other, staff, foreign, admin, pharmacy, other_pharmacy)
    practitioners = ("doctor", "nurse", "colleague", "credentialing_reviewer")
    for practitioner in (*(staff[name] for name in practitioners), foreign["doctor"]):
        await world.call(
            practitioner, "PUT", "/api/credentials/profile", json={"npi": unique_npi()}
        )
    own_patient = await world.patient()
    await world.call(
        staff["clerk"],
        "POST",
        f"/api/patients/{own_patient}/link-user",
        json={"user_id": str(staff["patient"].id)},
    )
    world.cache["own patient"] = own_patient
    world.api_client = await _api_client(world)
    return world


async def _api_client(world: World) -> Account:
    made = await world.call(
        world.staff["org_admin"],
        "POST",
        "/api/clients",
        json={"name": "Matrix client", "scopes": ["ingest"]},
    )
    token = await world.client.post(
        "/api/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": made["client_id"],
            "client_secret": made["client_secret"],
        },
    )
    assert token.status_code == 200, token.text
    return Account(uuid.UUID(made["id"]), world.home.id, auth_headers(token.json()["access_token"]))
