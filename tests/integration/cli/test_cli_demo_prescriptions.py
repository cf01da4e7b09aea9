"""`demo` adds prescriptions in every state, a controlled one, and the doctor's DEA registration."""

from __future__ import annotations

import re

from tests.integration.cli.conftest import Cli

from clinvault.prescriptions.states import STATES

EXPECTED_STATUSES = {
    "draft",
    "active",
    "on-hold",
    "completed",
    "cancelled",
    "stopped",
    "entered-in-error",
}
EXPECTED_FILLS = {
    "none",
    "ready",
    "accepted",
    "in-progress",
    "closed",
    "cancelled",
    "cancel-requested",
}


def test_demo_seeds_the_prescription_loop_once(cli: Cli) -> None:
    first = cli.ok("demo", "--password", "first demo password")
    created = re.search(r"Demo prescriptions: (\d+) created", first)
    assert created is not None, first
    assert int(created.group(1)) == 12
    rows = cli.sql("SELECT status, fill_status, schedule, dispensed_milli FROM prescriptions")
    assert {row[0] for row in rows} == EXPECTED_STATUSES
    assert {row[1] for row in rows} == EXPECTED_FILLS
    labels = {f"{row[0]}/{row[1]}" + (" (dispensed)" if row[3] else "") for row in rows}
    assert labels <= {state.label() for state in STATES}
    controlled = [row for row in rows if row[2] == "II"]
    assert [row[0] for row in controlled] == ["active"]
    # Signed by the DEA rule, and recorded as signed without a second factor (no authenticator).
    signed = cli.sql(
        "SELECT signed_with_second_factor, signed_at FROM prescriptions WHERE schedule = 'II'"
    )
    assert [bool(row[0]) for row in signed] == [False]
    assert signed[0][1] is not None
    dea = cli.sql(
        "SELECT d.status FROM credential_documents d JOIN users u ON u.id = d.practitioner_id "
        "WHERE u.email = 'doctor@healthcare.com' AND d.category = 'dea_registration'"
    )
    assert [row[0] for row in dea] == ["verified"]
    npi = cli.sql(
        "SELECT p.npi FROM practitioner_profiles p JOIN users u ON u.id = p.user_id "
        "WHERE u.email = 'doctor@healthcare.com'"
    )
    assert npi == [("1234567893",)] or [tuple(r) for r in npi] == [("1234567893",)]
    again = cli.ok("demo", "--password", "second demo password")
    assert "Demo prescriptions: 0 created" in again
    assert cli.sql("SELECT count(*) FROM prescriptions")[0][0] == 12
