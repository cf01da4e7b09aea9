"""`demo` also fills the demo clinic: patients, records, appointments, a linked patient account."""

from __future__ import annotations

import re
import resource
from datetime import UTC, datetime

from tests.integration.cli.conftest import Cli

PATIENTS = 300
PARTNER_PATIENTS = 1  # the partner clinic's patient, whose care plan it shares
SECONDS_ALLOWED = 30


def child_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def counts(cli: Cli) -> tuple[int, int, int]:
    return (
        cli.sql("SELECT count(*) FROM patients")[0][0],
        cli.sql("SELECT count(*) FROM medical_records")[0][0],
        cli.sql("SELECT count(*) FROM appointments")[0][0],
    )


def aware(value: object) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def test_demo_creates_a_clinic_of_patients_once(cli: Cli) -> None:
    # CPU time of the command, not wall time: other work on a shared machine cannot skew it.
    started = child_cpu_seconds()
    first = cli.ok("demo", "--password", "first demo password")
    spent = child_cpu_seconds() - started
    if cli.settings.is_sqlite:
        assert spent < SECONDS_ALLOWED, f"demo used {spent:.1f} s of CPU"
    created = re.search(r"Demo patients: (\d+) created, (\d+) already there", first)
    assert created is not None, first
    assert created.groups() == (str(PATIENTS), "0")
    assert "patient@healthcare.com sees the chart of demo patient DH000001" in first

    patients, records, appointments = counts(cli)
    assert patients == PATIENTS + PARTNER_PATIENTS
    assert records >= PATIENTS
    assert appointments >= PATIENTS // 2
    org = cli.sql("SELECT id FROM organizations WHERE slug = 'demo-health'")[0][0]
    assert cli.sql("SELECT count(*) FROM patients WHERE organization_id = :o", o=org)[0][0] == 300
    # Search works: every demo patient has blind-index tokens.
    searchable = cli.sql("SELECT count(DISTINCT patient_id) FROM patient_search_tokens")[0][0]
    assert searchable == PATIENTS + PARTNER_PATIENTS
    practitioners = {
        row[0]
        for row in cli.sql(
            "SELECT u.email FROM appointments a JOIN users u ON u.id = a.practitioner_id"
        )
    }
    assert practitioners == {"doctor@healthcare.com", "nurse@healthcare.com"}

    linked = cli.sql(
        "SELECT p.id FROM patients p JOIN users u ON u.id = p.user_id "
        "WHERE u.email = 'patient@healthcare.com'"
    )
    assert len(linked) == 1
    patient_id = linked[0][0]
    own_records = cli.sql(
        "SELECT count(*) FROM medical_records WHERE patient_id = :p", p=patient_id
    )[0][0]
    assert own_records >= 3
    starts = [
        aware(row[0])
        for row in cli.sql(
            "SELECT starts_at FROM appointments WHERE patient_id = :p AND status = 'scheduled'",
            p=patient_id,
        )
    ]
    assert any(moment > datetime.now(UTC) for moment in starts)

    # Names and clinical text are stored encrypted, never as the generated words.
    raw = " ".join(str(row) for row in cli.sql("SELECT first_name, last_name FROM patients"))
    assert "Patterson" not in raw

    second = cli.ok("demo", "--password", "second demo password")
    assert f"Demo patients: 0 created, {PATIENTS} already there" in second
    assert counts(cli) == (patients, records, appointments)
