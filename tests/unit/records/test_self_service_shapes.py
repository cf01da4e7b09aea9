"""Pure parts of patient self-service: outcomes in words, the FHIR Bundle, the cut-off."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, date, datetime, timedelta

from clinvault.records.appointments.requests import cancellable
from clinvault.records.appointments.schemas import AppointmentRead
from clinvault.records.export.fhir import bundle
from clinvault.records.export.schemas import ChartExport, outcome
from clinvault.records.medical.schemas import RecordRead
from clinvault.records.patients.schemas import PatientRead

NOW = datetime(2027, 1, 12, 15, 0, tzinfo=UTC)
PATIENT_USER = uuid.uuid4()
DOCTOR = uuid.uuid4()


def _patient() -> PatientRead:
    return PatientRead(
        id=uuid.uuid4(),
        mrn="MRN-7",
        first_name="Ines",
        last_name="Moreau",
        date_of_birth=date(1979, 4, 12),
        gender="female",
        phone=None,
        email="ines@example.org",
        address=None,
        blood_type="A+",
        allergies="latex",
        emergency_contact=None,
        ssn_last4="6789",
        user_id=PATIENT_USER,
        created_at=NOW,
        updated_at=NOW,
    )


def _appointment(
    patient: PatientRead, hours: int, status: str, by: uuid.UUID | None = None
) -> AppointmentRead:
    starts = NOW + timedelta(hours=hours)
    return AppointmentRead(
        id=uuid.uuid4(),
        patient_id=patient.id,
        practitioner_id=DOCTOR,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=30),
        reason="Check-up",
        status=status,
        cancelled_at=None,
        cancelled_by=by,
        created_at=NOW,
        updated_at=NOW,
    )


def test_outcomes_say_who_cancelled_and_what_happened() -> None:
    patient = _patient()
    words = [
        outcome(_appointment(patient, hours, status, by), NOW, PATIENT_USER)
        for hours, status, by in (
            (-48, "scheduled", None),
            (48, "scheduled", None),
            (48, "cancelled", PATIENT_USER),
            (48, "cancelled", DOCTOR),
            (48, "requested", None),
            (-48, "requested", None),
            (48, "declined", DOCTOR),
        )
    ]
    assert words == [
        "Completed",
        "Confirmed",
        "Cancelled by you",
        "Cancelled by the clinic",
        "Requested, waiting for the clinic",
        "Request expired",
        "Request declined by the clinic",
    ]


def test_the_cut_off_is_24_hours_before_the_start() -> None:
    assert cancellable(NOW + timedelta(hours=24), NOW)
    assert not cancellable(NOW + timedelta(hours=23, minutes=59), NOW)
    assert not cancellable(NOW - timedelta(hours=1), NOW)


def test_the_bundle_holds_the_chart_and_never_the_ssn() -> None:
    patient = _patient()
    record = RecordRead(
        id=uuid.uuid4(),
        patient_id=patient.id,
        record_type="lab_result",
        title="Lipids",
        content="LDL 3.1 mmol/L",
        priority="normal",
        author_id=DOCTOR,
        recorded_at=NOW,
        created_at=NOW,
        version=1,
        supersedes=None,
        superseded_by=None,
    )
    past = _appointment(patient, -48, "scheduled")
    request = _appointment(patient, 48, "requested")
    chart = ChartExport(patient, [record], [past, request], {DOCTOR: "Dr Kwame Osei"}, True)
    result = bundle(chart, NOW)

    assert result["resourceType"] == "Bundle"
    assert result["type"] == "collection"
    resources = {entry["resource"]["resourceType"]: entry["resource"] for entry in result["entry"]}
    assert resources["Patient"]["identifier"] == [{"system": "urn:clinvault:mrn", "value": "MRN-7"}]
    assert resources["AllergyIntolerance"]["code"] == {"text": "latex"}
    assert resources["Observation"]["valueString"] == "A+"
    data = resources["DocumentReference"]["content"][0]["attachment"]["data"]
    assert base64.b64decode(data).decode() == "LDL 3.1 mmol/L"
    statuses = sorted(
        entry["resource"]["status"]
        for entry in result["entry"]
        if entry["resource"]["resourceType"] == "Appointment"
    )
    assert statuses == ["fulfilled", "proposed"]
    assert resources["Practitioner"]["name"] == [{"text": "Dr Kwame Osei"}]
    assert "6789" not in str(result)
    assert all(
        entry["fullUrl"] == f"urn:uuid:{entry['resource']['id']}" for entry in result["entry"]
    )
