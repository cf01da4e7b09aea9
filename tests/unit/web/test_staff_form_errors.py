"""The staff forms' wording: every problem at once, in words, never a field name or a pattern."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from clinvault.records.patients.schemas import PatientCreate
from clinvault.web.pages import form_errors as wording
from clinvault.web.pages.form_errors import plain_errors
from clinvault.web.pages.slot_form import IN_THE_PAST, read_slot

RAW = re.compile(r"[a-z]+_[a-z]+|\^|\[0-9\]|\\d|Input should|String should")


def test_every_patient_problem_is_named_in_plain_words_at_once() -> None:
    values = {
        "first_name": "",
        "last_name": "Okafor",
        "date_of_birth": "2999-01-01",
        "gender": "robot",
        "mrn": "#1",
        "ssn": "12-34",
        "email": "nope",
        "blood_type": "C+",
    }
    with pytest.raises(ValidationError) as raised:
        PatientCreate.model_validate({k: v or None for k, v in values.items()})
    errors = plain_errors(raised.value, values, wording.PATIENT)
    assert set(errors) == {
        "first_name",
        "date_of_birth",
        "gender",
        "mrn",
        "ssn",
        "email",
        "blood_type",
    }
    assert errors["first_name"] == "Enter the first name."
    assert errors["date_of_birth"] == "The date of birth must not be in the future."
    for message in errors.values():
        assert not RAW.search(message), message
        assert message.endswith(".")


def test_a_slot_reports_each_faulty_field_and_refuses_the_past() -> None:
    zone = ZoneInfo("America/Chicago")
    starts, ends, errors = read_slot({"day": "31/12", "start": "", "minutes": "x"}, zone)
    assert (starts, ends) == (None, None)
    assert set(errors) == {"day", "start", "minutes"}
    past = read_slot({"day": "2020-01-01", "start": "09:00", "minutes": "30"}, zone)
    assert past[2] == {"start": IN_THE_PAST}
    day = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    starts, ends, errors = read_slot({"day": day, "start": "10:00", "minutes": "45"}, zone)
    assert errors == {}
    assert starts is not None
    assert ends is not None
    assert starts.astimezone(zone).strftime("%H:%M") == "10:00"
    assert ends - starts == timedelta(minutes=45)
