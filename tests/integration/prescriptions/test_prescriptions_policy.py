"""The organization's prescribing policy: who reads and changes it, and what it changes."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from tests.factories import problem
from tests.integration.prescriptions.support import Loop, build_loop, draft, party, rx_body

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role

URL = "/api/prescriptions/policy"
POLICY = {"default_validity_days": 30, "schedule_v_max_refills": 2, "schedule_v_max_days": 90}
SCHEDULE_V: dict[str, Any] = {
    "schedule": "V",
    "medication": {"name": "Codeine cough syrup", "strength": "10 mg/5 mL", "dose_form": "syrup"},
    "unit": "mL",
    "quantity": 120,
}


@pytest.fixture
async def loop(client: httpx.AsyncClient, container: Container) -> Loop:
    return await build_loop(client, container)


async def test_defaults_until_the_administrator_sets_the_policy(
    client: httpx.AsyncClient, loop: Loop
) -> None:
    before = await client.get(URL, headers=loop.doctor.headers)
    assert before.status_code == 200, before.text
    assert before.json() == {
        "default_validity_days": 365,
        "schedule_v_max_refills": 5,
        "schedule_v_max_days": 183,
        "customised": False,
        "updated_at": None,
    }
    changed = await client.put(URL, json=POLICY, headers=loop.org_admin.headers)
    assert changed.status_code == 200, changed.text
    assert changed.json()["customised"] is True
    again = await client.put(URL, json={**POLICY, "schedule_v_max_refills": 1},
                             headers=loop.org_admin.headers)  # fmt: skip
    assert again.json()["schedule_v_max_refills"] == 1
    seen = await client.get(URL, headers=loop.nurse.headers)
    assert {k: seen.json()[k] for k in POLICY} == {**POLICY, "schedule_v_max_refills": 1}

    # New prescriptions follow it: the default validity and the schedule V limits.
    plain = await draft(client, loop)
    assert plain["valid_until"] == (date.today() + timedelta(days=30)).isoformat()
    over = await client.post(
        "/api/prescriptions/",
        json=rx_body(loop, **SCHEDULE_V, refills_allowed=2),
        headers=loop.doctor.headers,
    )
    body = problem(over, 422, "prescription_rule_violated")
    assert "at most 1 refills" in body["detail"]
    late = (date.today() + timedelta(days=91)).isoformat()
    too_long = await client.post(
        "/api/prescriptions/",
        json=rx_body(loop, **SCHEDULE_V, refills_allowed=1, valid_until=late),
        headers=loop.doctor.headers,
    )
    assert problem(too_long, 422, "prescription_rule_violated")["errors"][0]["field"] == (
        "valid_until"
    )
    fine = await draft(client, loop, **SCHEDULE_V, refills_allowed=1)
    assert fine["valid_until"] == (date.today() + timedelta(days=30)).isoformat()

    # Another organization keeps its own (the defaults).
    other = await client.get(URL, headers=loop.other_doctor.headers)
    assert other.json()["customised"] is False


async def test_only_the_provider_organizations_administrator_changes_it(
    client: httpx.AsyncClient, container: Container, loop: Loop
) -> None:
    for who in (loop.doctor, loop.nurse, loop.clerk, loop.patient, loop.pharmacist):
        refused = await client.put(URL, json=POLICY, headers=who.headers)
        problem(refused, 403, "permission_denied")
    for who in (loop.clerk, loop.patient, loop.pharmacist):
        problem(await client.get(URL, headers=who.headers), 403, "permission_denied")
    pharmacy_admin = await party(container, loop.pharmacy, Role.ORG_ADMIN)
    problem(await client.put(URL, json=POLICY, headers=pharmacy_admin.headers), 403,
            "permission_denied")  # fmt: skip
    assert (await client.get(URL, headers=loop.doctor.headers)).json()["customised"] is False


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"default_validity_days": 0}, "default_validity_days"),
        ({"default_validity_days": 366}, "default_validity_days"),
        ({"schedule_v_max_refills": -1}, "schedule_v_max_refills"),
        ({"schedule_v_max_refills": 12}, "schedule_v_max_refills"),
        ({"schedule_v_max_days": 2**40}, "schedule_v_max_days"),
        ({"schedule_v_max_days": "ninety"}, "schedule_v_max_days"),
        ({"surprise": 1}, "surprise"),
    ],
)
async def test_out_of_range_values_are_refused_by_field(
    client: httpx.AsyncClient, loop: Loop, change: dict[str, Any], field: str
) -> None:
    refused = await client.put(URL, json={**POLICY, **change}, headers=loop.org_admin.headers)
    body = problem(refused, 422, "request_invalid")
    assert field in str(body["errors"]), body
    assert (await client.get(URL, headers=loop.org_admin.headers)).json()["customised"] is False
