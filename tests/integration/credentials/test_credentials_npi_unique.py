"""An NPI belongs to one practitioner across the platform: a second claim is a 409."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from tests.factories import create_org, problem, unique_npi
from tests.integration.credentials.support import practitioner

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role
from clinvault.models.credentials import PractitionerProfile

PROFILE = "/api/credentials/profile"


async def put_npi(client: httpx.AsyncClient, headers: dict[str, str], npi: str) -> httpx.Response:
    return await client.put(PROFILE, json={"npi": npi, "specialty": "cardiology"}, headers=headers)


async def test_a_second_practitioner_claiming_a_held_npi_is_told_to_contact_an_admin(
    client: httpx.AsyncClient, container: Container
) -> None:
    first_org = await create_org(container, name="First Holder Clinic")
    second_org = await create_org(container)
    npi = unique_npi()
    holder, holder_headers = await practitioner(client, container, first_org, npi=npi)
    colleague, colleague_headers = await practitioner(
        client, container, first_org, roles=[Role.NURSE], npi=None
    )
    _, stranger_headers = await practitioner(client, container, second_org, npi=None)

    for headers in (colleague_headers, stranger_headers):
        body = problem(await put_npi(client, headers, npi), 409, "npi_taken")
        assert "administrator" in body["detail"]
        for revealing in (str(holder.id), holder.email, "First Holder Clinic"):
            assert revealing not in body["detail"]

    # Someone who already has a profile keeps theirs when the claim is refused.
    own = unique_npi()
    assert (await put_npi(client, colleague_headers, own)).status_code == 200
    problem(await put_npi(client, colleague_headers, npi), 409, "npi_taken")
    kept = await client.get(PROFILE, headers=colleague_headers)
    assert kept.json()["npi"] == own

    # The holder can save its own profile again with the same NPI.
    again = await put_npi(client, holder_headers, npi)
    assert again.status_code == 200, again.text
    async with container.db.sessions() as session:
        holders = (
            await session.scalars(
                select(PractitionerProfile.user_id).where(PractitionerProfile.npi == npi)
            )
        ).all()
    assert holders == [holder.id]
    assert colleague.id != holder.id


async def test_the_database_refuses_a_duplicate_npi_too(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    npi = unique_npi()
    await practitioner(client, container, org, npi=npi)
    other, _ = await practitioner(client, container, org, npi=None)

    async def insert_duplicate() -> None:
        async with container.db.unit_of_work() as session:
            session.add(PractitionerProfile(organization_id=org.id, user_id=other.id, npi=npi))
            await session.flush()

    with pytest.raises(IntegrityError):
        await insert_duplicate()
