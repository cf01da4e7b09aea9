"""The issue's bad-input list: each a 4xx problem naming the field or rule; nothing changes."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from tests.factories import problem
from tests.integration.prescriptions.support import (
    Loop,
    act,
    build_loop,
    draft,
    enable_totp,
    expire_document,
    issued,
    rx_body,
    verified_dea,
)

from clinvault.bootstrap import Container

RULE = "prescription_rule_violated"
CONTROLLED: dict[str, Any] = {
    "schedule": "II",
    "refills_allowed": 0,
    "medication": {"name": "Oxycodone", "strength": "5 mg", "dose_form": "tablet"},
    "unit": "tablet",
}


@pytest.fixture
async def loop(client: httpx.AsyncClient, container: Container) -> Loop:
    return await build_loop(client, container)


def fields(body: dict[str, Any]) -> set[str]:
    return {str(error.get("field") or error.get("loc", [""])[-1]) for error in body["errors"]}


async def created(client: httpx.AsyncClient, loop: Loop, **overrides: Any) -> httpx.Response:
    return await client.post(
        "/api/prescriptions/", json=rx_body(loop, **overrides), headers=loop.doctor.headers
    )


async def count(client: httpx.AsyncClient, loop: Loop) -> int:
    listed = await client.get("/api/prescriptions/", headers=loop.doctor.headers)
    return len(listed.json()["items"])


@pytest.mark.parametrize(
    ("overrides", "status", "code", "field"),
    [
        ({"quantity": 0}, 422, "request_invalid", "quantity"),
        ({"quantity": -3}, 422, "request_invalid", "quantity"),
        ({"quantity": 10.5}, 422, "prescription_quantity_invalid", "quantity"),
        ({"refills_allowed": 12}, 422, "request_invalid", "refills_allowed"),
        ({"schedule": "II", "refills_allowed": 1}, 422, RULE, "refills_allowed"),
        ({"schedule": "IV", "refills_allowed": 6}, 422, RULE, "refills_allowed"),
        (
            {"schedule": "III", "valid_until": (date.today() + timedelta(days=200)).isoformat()},
            422,
            "prescription_rule_violated",
            "valid_until",
        ),
        (
            {"valid_until": (date.today() - timedelta(days=1)).isoformat()},
            422,
            "prescription_rule_violated",
            "valid_until",
        ),
        (
            {"schedule": "II", "refills_allowed": 0, "days_supply": 30,
             "earliest_fill_on": (date.today() + timedelta(days=70)).isoformat()},
            422,
            "prescription_rule_violated",
            "earliest_fill_on",
        ),
        ({"directions": "Take one\x00 daily"}, 422, "request_invalid", "directions"),
        ({"medication": {"name": "x" * 201, "strength": "1 mg", "dose_form": "tablet"}},
         422, "request_invalid", "medication.name"),
        ({"days_supply": 10_000}, 422, "request_invalid", "days_supply"),
        ({"medication": {"name": "Amoxi\x85cillin", "strength": "1 mg", "dose_form": "tablet"}},
         422, "request_invalid", "medication.name"),
        ({"notes": "Sinusitis\x1b[31m"}, 422, "request_invalid", "notes"),
        ({"valid_until": "0001-01-01"}, 422, "request_invalid", "valid_until"),
    ],
)  # fmt: skip
async def test_create_refuses_with_the_field_named(
    client: httpx.AsyncClient,
    loop: Loop,
    overrides: dict[str, Any],
    status: int,
    code: str,
    field: str,
) -> None:
    response = await created(client, loop, **overrides)
    body = problem(response, status, code)
    assert field in fields(body), body
    assert await count(client, loop) == 0


async def test_a_patient_of_another_organization_and_a_pharmacy_that_is_not_one(
    client: httpx.AsyncClient, loop: Loop
) -> None:
    foreign = await created(client, loop, patient_id=loop.foreign_patient_id)
    assert "patient_id" in fields(problem(foreign, 404, "patient_not_found"))
    not_pharmacy = await created(client, loop, pharmacy_id=str(loop.other_clinic.id))
    assert "pharmacy_id" in fields(problem(not_pharmacy, 422, "pharmacy_invalid"))
    nurse = await client.post("/api/prescriptions/", json=rx_body(loop), headers=loop.nurse.headers)
    assert "prescriber_id" in fields(problem(nurse, 422, "prescriber_invalid"))
    assert await count(client, loop) == 0


async def test_dispense_zero_fraction_or_more_than_remains(
    client: httpx.AsyncClient, loop: Loop
) -> None:
    rx = await issued(client, loop)
    await act(client, loop.pharmacist, rx["id"], "claim")
    for quantity, code in ((0, "request_invalid"), (2.5, "prescription_quantity_invalid"),
                           (31, "prescription_quantity_invalid")):  # fmt: skip
        refused = await act(client, loop.pharmacist, rx["id"], "dispense", {"quantity": quantity})
        assert "quantity" in fields(problem(refused, 422, code))
    after = await client.get(f"/api/prescriptions/{rx['id']}", headers=loop.doctor.headers)
    assert after.json()["dispensed"] == 0
    assert after.json()["fill_status"] == "accepted"


async def test_fractional_units_accept_fractions(client: httpx.AsyncClient, loop: Loop) -> None:
    rx = await issued(client, loop, quantity=150, unit="mL", refills_allowed=0)
    await act(client, loop.pharmacist, rx["id"], "claim")
    done = await act(client, loop.pharmacist, rx["id"], "dispense", {"quantity": 72.5})
    assert done.json()["remaining"] == 77.5, done.text


async def test_transitions_out_of_order_are_409_naming_the_state(
    client: httpx.AsyncClient, loop: Loop
) -> None:
    rx = await draft(client, loop)
    early = await act(client, loop.pharmacist, rx["id"], "claim")
    problem(early, 404, "prescription_not_found")  # a draft is not routed yet
    held = await act(client, loop.doctor, rx["id"], "hold")
    assert "draft/none" in problem(held, 409, "prescription_state_conflict")["detail"]
    signed = await issued(client, loop)
    dispense = await act(client, loop.pharmacist, signed["id"], "dispense", {"quantity": 1})
    assert "active/ready" in problem(dispense, 409, "prescription_state_conflict")["detail"]
    seen = signed["version"]
    await act(client, loop.doctor, signed["id"], "hold")
    await act(client, loop.doctor, signed["id"], "resume")
    stale = await act(client, loop.pharmacist, signed["id"], "claim", {"version": seen})
    problem(stale, 409, "prescription_version_conflict")
    await act(client, loop.pharmacist, signed["id"], "claim")
    moved = await act(
        client, loop.patient, signed["id"], "pharmacy", {"pharmacy_id": str(loop.pharmacy_b.id)}
    )
    problem(moved, 409, "prescription_state_conflict")


async def test_signing_someone_elses_draft(client: httpx.AsyncClient, loop: Loop) -> None:
    rx = await draft(client, loop)
    refused = await act(client, loop.colleague, rx["id"], "sign")
    problem(refused, 403, "prescription_not_your_draft")
    by_nurse = await draft(client, loop, loop.nurse, prescriber_id=str(loop.doctor.user.id))
    problem(
        await act(client, loop.nurse, by_nurse["id"], "sign"), 403, "prescription_not_your_draft"
    )
    signed = await act(client, loop.doctor, by_nurse["id"], "sign")
    assert signed.json()["status"] == "active", signed.text


async def test_controlled_substances_need_dea_registration_and_second_factor(
    client: httpx.AsyncClient, container: Container, loop: Loop
) -> None:
    controlled = CONTROLLED
    rx = await draft(client, loop, **controlled)
    totp = await enable_totp(container, loop.doctor.user)
    no_dea = await act(client, loop.doctor, rx["id"], "sign", {"second_factor": totp.now()})
    problem(no_dea, 403, "dea_registration_required")
    document = await verified_dea(client, loop.doctor, loop.extra["reviewer"])
    missing = await act(client, loop.doctor, rx["id"], "sign")
    assert "second_factor" in fields(problem(missing, 403, "second_factor_required"))
    wrong = await act(client, loop.doctor, rx["id"], "sign", {"second_factor": "000000"})
    if totp.now() != "000000":
        problem(wrong, 403, "second_factor_invalid")
    code = totp.now()
    signed = await act(client, loop.doctor, rx["id"], "sign", {"second_factor": code})
    assert signed.status_code == 200, signed.text
    assert signed.json()["prescriber"]["dea_number"] == "AB1234563"
    # The same code again is a replay.
    second = await draft(client, loop, **controlled)
    replay = await act(client, loop.doctor, second["id"], "sign", {"second_factor": code})
    problem(replay, 403, "second_factor_invalid")
    # An expired registration no longer allows it.
    await expire_document(container, document)
    expired = await act(client, loop.doctor, second["id"], "sign", {"second_factor": totp.now()})
    assert "expired" in problem(expired, 403, "dea_registration_required")["detail"]
    status = await client.get(f"/api/prescriptions/{second['id']}", headers=loop.doctor.headers)
    assert status.json()["status"] == "draft"


async def test_tampered_and_malformed_verification_tokens(
    client: httpx.AsyncClient, loop: Loop
) -> None:
    rx = await issued(client, loop)
    token = rx["verification_url"].rsplit("/", 1)[1]
    prefix, version, payload, mac = token.split(".")
    forged = [
        "not-a-token",
        f"{prefix}.{version}.{payload}.{mac[::-1]}",
        f"{prefix}.{version}.{payload[:-1]}A.{mac}",
        f"{prefix}.99.{payload}.{mac}",
    ]
    for candidate in forged:
        refused = await client.get(
            f"/api/prescriptions/verify/{candidate}", headers=loop.pharmacist.headers
        )
        problem(refused, 422, "verification_token_invalid")
