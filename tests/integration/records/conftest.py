"""A clinic (an organization with signed-in staff) and patient builders for records tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
from tests.factories import auth_headers, create_org, create_user

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role
from clinvault.identity.tokens import TokenIssuer, new_refresh_token
from clinvault.ids import uuid7
from clinvault.models.identity import Organization, RefreshToken, User
from clinvault.timeutil import utcnow


@dataclass
class Clinic:
    org: Organization
    users: dict[str, User] = field(default_factory=dict)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)


async def session_for(container: Container, user: User) -> dict[str, str]:
    """Headers of a live session for `user`, minted without a password round (argon2 is slow).

    Sign-in itself is covered by the identity tests; here only the bearer matters.
    """
    family = uuid7()
    now = utcnow()
    async with container.db.unit_of_work() as session:
        session.add(
            RefreshToken(
                family_id=family,
                user_id=user.id,
                token_hash=new_refresh_token()[1],
                issued_at=now,
                expires_at=now + timedelta(days=1),
            )
        )
    token = TokenIssuer(container.keys, container.settings.security).access_token(
        user_id=user.id, organization_id=user.organization_id, roles=user.roles, session_id=family
    )
    return auth_headers(token)


async def member(
    container: Container, org: Organization, role: Role
) -> tuple[User, dict[str, str]]:
    user = await create_user(container, org, roles=[role], password=None)
    return user, await session_for(container, user)


async def open_clinic(
    client: httpx.AsyncClient,
    container: Container,
    roles: tuple[Role, ...] = (Role.ORG_ADMIN, Role.CLERK, Role.DOCTOR, Role.NURSE),
) -> Clinic:
    clinic = Clinic(org=await create_org(container))
    for role in roles:
        user, headers = await member(container, clinic.org, role)
        clinic.users[role.value] = user
        clinic.headers[role.value] = headers
    return clinic


@pytest.fixture
async def clinic(client: httpx.AsyncClient, container: Container) -> Clinic:
    return await open_clinic(client, container)


def patient_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "date_of_birth": "1985-12-10",
        "gender": "female",
        "phone": "+44 20 7183 8750",
        "email": "ada@example.org",
        "address": "12 St James's Square, London",
        "blood_type": "O+",
        "allergies": "penicillin",
        "emergency_contact": "Mary Somerville, +442071838751",
    }
    body.update(overrides)
    return body


async def add_patient(
    client: httpx.AsyncClient, headers: dict[str, str], **overrides: Any
) -> dict[str, Any]:
    response = await client.post("/api/patients/", json=patient_body(**overrides), headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def patient_account(
    client: httpx.AsyncClient, container: Container, clinic: Clinic, patient_id: str
) -> tuple[User, dict[str, str]]:
    """A patient user of the clinic, linked to the patient row by the clerk."""
    user, headers = await member(container, clinic.org, Role.PATIENT)
    linked = await client.post(
        f"/api/patients/{patient_id}/link-user",
        json={"user_id": str(user.id)},
        headers=clinic.headers["clerk"],
    )
    assert linked.status_code == 200, linked.text
    return user, headers


async def add_record(
    client: httpx.AsyncClient, headers: dict[str, str], patient_id: str, **overrides: Any
) -> dict[str, Any]:
    body = {
        "patient_id": patient_id,
        "record_type": "consultation",
        "title": "Annual check-up",
        "content": "Blood pressure 120/80.",
        "priority": "normal",
        **overrides,
    }
    response = await client.post("/api/records/", json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created
