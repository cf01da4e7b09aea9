"""Sharing: levels, acceptance by the other organization, expiry, revocation, audit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from tests.factories import create_org
from tests.integration.careplans.support import (
    PLANS,
    World,
    build_world,
    create_plan,
    update_plan,
)
from tests.integration.records.conftest import member

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role
from clinvault.models.audit import AuditEvent
from clinvault.models.careplans import CarePlanShare
from clinvault.models.identity import Organization, User


@dataclass
class Partners:
    world: World
    other: Organization
    other_doctor: User
    other_doctor_headers: dict[str, str]
    other_nurse: dict[str, str]
    other_clerk: dict[str, str]
    pharmacy: Organization
    pharmacist: User
    plan: dict[str, Any]


@pytest.fixture
async def partners(client: httpx.AsyncClient, container: Container) -> Partners:
    world = await build_world(client, container)
    other = await create_org(container, name="Riverside Cardiology")
    doctor, doctor_headers = await member(container, other, Role.DOCTOR)
    _, nurse = await member(container, other, Role.NURSE)
    _, clerk = await member(container, other, Role.CLERK)
    pharmacy = await create_org(container, kind="pharmacy", name="Corner Pharmacy")
    pharmacist, _ = await member(container, pharmacy, Role.PHARMACIST)
    plan = await create_plan(client, world.doctor, world.patient_id)
    return Partners(world, other, doctor, doctor_headers, nurse, clerk, pharmacy, pharmacist, plan)


async def _share(
    client: httpx.AsyncClient, headers: dict[str, str], plan_id: str, **body: Any
) -> httpx.Response:
    return await client.post(f"{PLANS}/{plan_id}/shares", json=body, headers=headers)


async def _shared(client: httpx.AsyncClient, p: Partners, level: str) -> dict[str, Any]:
    """A share of the plan to the other organization, accepted by its nurse."""
    made = await _share(client, p.world.doctor, p.plan["id"], organization_id=str(p.other.id),
                        level=level)  # fmt: skip
    assert made.status_code == 201, made.text
    accepted = await client.post(
        f"{PLANS}/shares/{made.json()['id']}/accept", headers=p.other_nurse
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["state"] == "live"
    return accepted.json()


async def test_a_cross_org_share_expires_in_90_days_and_shows_only_once_accepted(
    client: httpx.AsyncClient, partners: Partners
) -> None:
    p = partners
    made = await _share(client, p.world.doctor, p.plan["id"], organization_id=str(p.other.id))
    assert made.status_code == 201, made.text
    share = made.json()
    assert share["state"] == "pending"
    assert share["level"] == "view"
    assert share["grantee_name"] == "Riverside Cardiology"
    assert share["expires_at"][:10] == (date.today() + timedelta(days=91)).isoformat()
    url = f"{PLANS}/{p.plan['id']}"
    assert (await client.get(url, headers=p.other_doctor_headers)).status_code == 404
    listed = await client.get(f"{PLANS}/", headers=p.other_doctor_headers)
    assert listed.json()["total"] == 0
    incoming = await client.get(f"{PLANS}/shares/incoming", headers=p.other_doctor_headers)
    assert [s["id"] for s in incoming.json()] == [share["id"]]
    clerk = await client.post(f"{PLANS}/shares/{share['id']}/accept", headers=p.other_clerk)
    assert clerk.status_code == 403
    accepted = await client.post(
        f"{PLANS}/shares/{share['id']}/accept", headers=p.other_doctor_headers
    )
    assert accepted.json()["accepted_by"] == str(p.other_doctor.id)
    read = await client.get(url, headers=p.other_doctor_headers)
    assert read.status_code == 200, read.text
    assert (await client.get(f"{url}/versions", headers=p.other_doctor_headers)).is_success
    listed = await client.get(f"{PLANS}/", headers=p.other_doctor_headers)
    assert [item["id"] for item in listed.json()["items"]] == [p.plan["id"]]
    owned = await client.get(f"{PLANS}/shares", headers=p.world.doctor)
    assert [s["id"] for s in owned.json()] == [share["id"]]


async def test_levels_view_and_comment_cannot_edit_edit_can(
    client: httpx.AsyncClient, partners: Partners
) -> None:
    p = partners
    share = await _shared(client, p, "comment")
    refused = await update_plan(client, p.other_doctor_headers, p.plan, p.plan["etag"], title="x")
    assert refused.status_code == 403
    upgrade = await _share(client, p.other_doctor_headers, p.plan["id"],
                           user_id=str(p.world.clinic.users["nurse"].id), level="edit")  # fmt: skip
    assert upgrade.status_code == 403
    assert upgrade.json()["code"] == "care_plan_level_too_high"
    await client.post(f"{PLANS}/shares/{share['id']}/revoke", headers=p.world.doctor)
    await _shared(client, p, "edit")
    edited = await update_plan(
        client, p.other_doctor_headers, p.plan, p.plan["etag"], title="Cardiology review"
    )
    assert edited.status_code == 200, edited.text
    versions = await client.get(f"{PLANS}/{p.plan['id']}/versions", headers=p.world.doctor)
    assert versions.json()[-1]["author_id"] == str(p.other_doctor.id)


async def test_revocation_takes_effect_on_the_next_request_and_stays_on_record(
    client: httpx.AsyncClient, partners: Partners
) -> None:
    p = partners
    share = await _shared(client, p, "view")
    url = f"{PLANS}/{p.plan['id']}"
    assert (await client.get(url, headers=p.other_doctor_headers)).status_code == 200
    # The receiving organization knows the share but does not manage it.
    foreign = await client.post(f"{PLANS}/shares/{share['id']}/revoke", headers=p.other_nurse)
    assert foreign.status_code == 403
    revoked = await client.post(f"{PLANS}/shares/{share['id']}/revoke", headers=p.world.nurse)
    assert revoked.json()["state"] == "revoked"
    assert revoked.json()["revoked_by"] == str(p.world.clinic.users["nurse"].id)
    assert (await client.get(url, headers=p.other_doctor_headers)).status_code == 404
    record = await client.get(f"{url}/shares", headers=p.world.doctor)
    assert [s["state"] for s in record.json()] == ["revoked"]
    assert (await client.get(f"{PLANS}/shares", headers=p.world.doctor)).json() == []
    again = await client.post(f"{PLANS}/shares/{share['id']}/accept", headers=p.other_nurse)
    assert again.status_code == 404


async def test_an_expired_share_is_a_404_until_the_owner_extends_it(
    client: httpx.AsyncClient, container: Container, partners: Partners
) -> None:
    p = partners
    share = await _shared(client, p, "view")
    url = f"{PLANS}/{p.plan['id']}"
    async with container.db.unit_of_work() as session:
        row = await session.get(CarePlanShare, uuid.UUID(share["id"]))
        assert row is not None
        row.expires_at = row.created_at - timedelta(seconds=1)
    assert (await client.get(url, headers=p.other_doctor_headers)).status_code == 404
    listed = await client.get(f"{url}/shares", headers=p.world.doctor)
    assert listed.json()[0]["state"] == "expired"
    later = (date.today() + timedelta(days=30)).isoformat()
    extended = await client.patch(
        f"{PLANS}/shares/{share['id']}", json={"expires_on": later}, headers=p.world.doctor
    )
    assert extended.status_code == 200, extended.text
    assert extended.json()["state"] == "live"
    assert (await client.get(url, headers=p.other_doctor_headers)).status_code == 200


async def test_every_read_by_another_organization_is_in_the_owners_audit_log(
    client: httpx.AsyncClient, container: Container, partners: Partners
) -> None:
    p = partners
    await _shared(client, p, "view")
    await client.get(f"{PLANS}/{p.plan['id']}", headers=p.other_doctor_headers)
    await client.get(f"{PLANS}/{p.plan['id']}/versions/1", headers=p.other_doctor_headers)
    async with container.db.unit_of_work() as session:
        rows = (
            await session.execute(
                sa.select(AuditEvent.action, AuditEvent.detail, AuditEvent.actor_id).where(
                    AuditEvent.organization_id == p.world.clinic.org.id,
                    AuditEvent.detail.like(f"%acting_organization={p.other.id}%"),
                )
            )
        ).all()
    actions = sorted(row[0] for row in rows)
    assert actions == ["careplans.read", "careplans.versions.read"], rows
    assert {row[2] for row in rows} == {p.other_doctor.id}


@pytest.mark.parametrize(
    ("target", "field"),
    [
        ("pharmacy", "organization_id"),
        ("pharmacist", "user_id"),
        ("unknown_user", "user_id"),
        ("unknown_org", "organization_id"),
        ("patient", "user_id"),
        ("own_org", "organization_id"),
        ("both", None),
        ("none", None),
        ("past", "expires_on"),
    ],
)
async def test_bad_shares_are_refused_with_a_clear_problem(
    client: httpx.AsyncClient, partners: Partners, target: str, field: str | None
) -> None:
    p = partners
    unknown = "0190a000-0000-7000-8000-000000000000"
    bodies: dict[str, dict[str, Any]] = {
        "pharmacy": {"organization_id": str(p.pharmacy.id)},
        "pharmacist": {"user_id": str(p.pharmacist.id)},
        "unknown_user": {"user_id": unknown},
        "unknown_org": {"organization_id": unknown},
        "patient": {"user_id": str(p.world.patient_user.id)},
        "own_org": {"organization_id": str(p.world.clinic.org.id)},
        "both": {"organization_id": str(p.other.id), "user_id": str(p.other_doctor.id)},
        "none": {"level": "view"},
        "past": {"organization_id": str(p.other.id), "expires_on": date.today().isoformat()},
    }
    answer = await _share(client, p.world.doctor, p.plan["id"], **bodies[target])
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    if field is not None:
        assert field in str(answer.json()["errors"])
    assert (await client.get(f"{PLANS}/{p.plan['id']}/shares", headers=p.world.doctor)).json() == []
