"""A clinic with a patient account, a second clinic, and plan bodies for care-plan tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from tests.factories import create_org
from tests.integration.records.conftest import (
    Clinic,
    add_patient,
    member,
    open_clinic,
    patient_account,
)

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role
from clinvault.models.identity import User

PLANS = "/api/care-plans"


@dataclass
class World:
    clinic: Clinic
    patient_id: str
    patient_user: User
    patient_headers: dict[str, str]
    foreign_doctor: dict[str, str]
    foreign_patient_id: str

    @property
    def doctor(self) -> dict[str, str]:
        return self.clinic.headers["doctor"]

    @property
    def nurse(self) -> dict[str, str]:
        return self.clinic.headers["nurse"]


async def build_world(client: httpx.AsyncClient, container: Container) -> World:
    clinic = await open_clinic(client, container)
    patient = await add_patient(client, clinic.headers["clerk"])
    patient_user, patient_headers = await patient_account(client, container, clinic, patient["id"])
    other = await create_org(container)
    _, foreign_doctor = await member(container, other, Role.DOCTOR)
    _, foreign_clerk = await member(container, other, Role.CLERK)
    foreign_patient = await add_patient(client, foreign_clerk)
    return World(
        clinic, patient["id"], patient_user, patient_headers, foreign_doctor, foreign_patient["id"]
    )


def plan_body(patient_id: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "patient_id": patient_id,
        "title": "Type 2 diabetes management",
        "status": "active",
        "period_start": "2026-01-01",
        "period_end": "2026-06-30",
        "goals": ["HbA1c below 7%", "Walk 30 minutes a day"],
        "activities": [
            {"what": "Metformin review", "who": "GP", "when": "monthly", "status": "scheduled"},
            {"what": "Dietitian visit", "when": "week 2"},
        ],
        "body": "## Plan\n\nStart with diet.\nCheck glucose daily.\n",
    }
    body.update(overrides)
    return body


def content_of(plan: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """An update body: the plan's content as read, with `changes`."""
    keys = ("title", "status", "period_start", "period_end", "goals", "activities", "body")
    body = {key: plan[key] for key in keys}
    body["shared_with_patient"] = plan["shared_with_patient"]
    body.update(changes)
    return body


async def create_plan(
    client: httpx.AsyncClient, headers: dict[str, str], patient_id: str, **overrides: Any
) -> dict[str, Any]:
    created = await client.post(
        f"{PLANS}/", json=plan_body(patient_id, **overrides), headers=headers
    )
    assert created.status_code == 201, created.text
    plan: dict[str, Any] = created.json()
    assert created.headers["etag"] == plan["etag"]
    return plan


async def update_plan(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    plan: dict[str, Any],
    etag: str | None = None,
    **changes: Any,
) -> httpx.Response:
    sent = {**headers}
    if etag is not None:
        sent["If-Match"] = etag
    return await client.put(f"{PLANS}/{plan['id']}", json=content_of(plan, **changes), headers=sent)
