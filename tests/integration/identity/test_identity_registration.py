"""Self-registration: patients only, in organizations that allow it; nothing stored on refusal."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from tests.factories import DEFAULT_PASSWORD, create_org, create_user, login, problem

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role
from clinvault.models.identity import Organization, User


async def user_count(container: Container) -> int:
    async with container.db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(User)) or 0)


def registration(org: Organization, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "organization": org.slug,
        "email": "new.patient@example.org",
        "password": DEFAULT_PASSWORD,
        "display_name": "New Patient",
    }
    body.update(changes)
    return body


async def register(client: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    return await client.post("/api/auth/register", json=body)


@pytest.mark.parametrize("role", [None, "patient"])
async def test_a_patient_registers_and_signs_in(
    client: httpx.AsyncClient, container: Container, role: str | None
) -> None:
    org = await create_org(container, allow_patient_registration=True)
    body = registration(org, email="New.Patient@Example.org")
    if role is not None:
        body["role"] = role
    response = await register(client, body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["roles"] == ["patient"]
    assert created["organization_id"] == str(org.id)
    assert created["email"] == "new.patient@example.org"
    assert created["mfa_enabled"] is False
    assert created["is_active"] is True
    tokens = await login(client, "new.patient@example.org")
    assert tokens["user"]["id"] == created["id"]


@pytest.mark.parametrize("role", [r.value for r in Role if r is not Role.PATIENT] + ["root"])
async def test_every_other_role_is_refused(
    client: httpx.AsyncClient, container: Container, role: str
) -> None:
    org = await create_org(container, allow_patient_registration=True)
    before = await user_count(container)
    problem(await register(client, registration(org, role=role)), 403, "role_not_allowed")
    assert await user_count(container) == before


@pytest.mark.parametrize(
    "forged",
    [
        {"organization_id": "00000000-0000-7000-8000-000000000000"},
        {"roles": ["org_admin"]},
        {"is_active": True},
        {"mfa_enabled": True},
        {"is_demo": True},
    ],
    ids=lambda forged: next(iter(forged)),
)
async def test_forged_fields_are_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, container: Container, forged: dict[str, Any]
) -> None:
    org = await create_org(container, allow_patient_registration=True)
    before = await user_count(container)
    body = problem(await register(client, registration(org, **forged)), 422, "request_invalid")
    assert {error["field"] for error in body["errors"]} == set(forged)
    assert await user_count(container) == before


async def test_closed_inactive_or_unknown_organizations_refuse(
    client: httpx.AsyncClient, container: Container
) -> None:
    closed = await create_org(container, allow_patient_registration=False)
    inactive = await create_org(container, allow_patient_registration=True)
    async with container.db.unit_of_work() as session:
        row = await session.get(Organization, inactive.id)
        assert row is not None
        row.is_active = False
    before = await user_count(container)
    for body in (
        registration(closed),
        registration(inactive),
        {**registration(closed), "organization": "no-such-org"},
    ):
        problem(await register(client, body), 403, "registration_closed")
    assert await user_count(container) == before


async def test_weak_password_and_invalid_email(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container, allow_patient_registration=True)
    other = await create_org(container)
    await create_user(container, other, roles=[Role.NURSE], email="taken@example.org")
    before = await user_count(container)
    taken_and_weak = problem(
        await register(client, registration(org, email="taken@example.org", password="short")),
        422,
        "password_too_weak",
    )
    assert "at least 12" in taken_and_weak["detail"]
    weak = problem(
        await register(client, registration(org, password="short pass")), 422, "password_too_weak"
    )
    assert "at least 12" in weak["detail"]
    padded = problem(
        await register(client, registration(org, password="  short  ")), 422, "password_too_weak"
    )
    assert padded["errors"][0]["field"] == "password"
    invalid_email = await register(client, registration(org, email="not-an-email"))
    problem(invalid_email, 422, "request_invalid")
    assert await user_count(container) == before
