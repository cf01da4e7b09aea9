"""The design's search filters (gender, blood type, age range) over encrypted patients."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, select, update
from tests.conftest import make_settings
from tests.factories import problem
from tests.integration.records.conftest import Clinic, add_patient, open_clinic, patient_account

from clinvault.bootstrap import Container
from clinvault.config import Settings
from clinvault.ids import uuid7
from clinvault.main import create_app
from clinvault.models.records import Patient, PatientSearchToken
from clinvault.records.imports.service import Provenance, RecordImportService, Visit
from clinvault.records.patients.backfill import backfill_filter_tokens
from clinvault.records.patients.filters import BIRTH_YEAR, BLOOD_TYPE, GENDER
from clinvault.timeutil import utcnow


def _years_ago(years: int, *, days: int = 0) -> str:
    """The date of birth of someone turning `years` today, moved by `days`."""
    today = utcnow().date()
    try:
        born = today.replace(year=today.year - years)
    except ValueError:  # today is 29 February: someone born on the 28th turned `years`
        born = date(today.year - years, 2, 28)
    return (born + timedelta(days=days)).isoformat()


async def _seed(client: httpx.AsyncClient, clinic: Clinic) -> dict[str, str]:
    headers = clinic.headers["clerk"]
    people: dict[str, dict[str, Any]] = {
        # Turned 30 today: aged 30.
        "ana": {"gender": "female", "blood_type": "O+", "date_of_birth": _years_ago(30)},
        # Turns 30 tomorrow: still 29.
        "ben": {"gender": "Male", "blood_type": "A-", "date_of_birth": _years_ago(30, days=1)},
        # Turned 40 yesterday.
        "cai": {"gender": "MALE", "blood_type": "O+", "date_of_birth": _years_ago(40, days=-1)},
        # Turns 41 tomorrow: still 40.
        "dee": {"gender": "other", "blood_type": None, "date_of_birth": _years_ago(41, days=1)},
        # Turned 41 today.
        "eve": {"gender": "female", "blood_type": "AB+", "date_of_birth": _years_ago(41)},
        "fay": {"gender": "unknown", "blood_type": "O+", "date_of_birth": _years_ago(5)},
    }
    ids: dict[str, str] = {}
    for name, fields in people.items():
        created = await add_patient(
            client, headers, first_name=name.capitalize(), last_name="Filterton", **fields
        )
        ids[created["id"]] = name
    return ids


async def _names(
    client: httpx.AsyncClient, headers: dict[str, str], ids: dict[str, str], **params: Any
) -> set[str]:
    response = await client.get("/api/patients/search", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(body["items"]), body
    assert body["total_exact"] is True
    return {ids.get(item["id"], "other-clinic") for item in body["items"]}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"gender": "male"}, {"ben", "cai"}),
        ({"gender": "Male"}, {"ben", "cai"}),
        ({"gender": "FEMALE"}, {"ana", "eve"}),
        ({"gender": "unknown"}, {"fay"}),
        ({"blood_type": "O+"}, {"ana", "cai", "fay"}),
        ({"blood_type": "o+"}, {"ana", "cai", "fay"}),
        ({"blood_type": "AB+"}, {"eve"}),
        ({"blood_type": "B-"}, set()),
        ({"age_min": 30}, {"ana", "cai", "dee", "eve"}),
        ({"age_max": 29}, {"ben", "fay"}),
        ({"age_min": 30, "age_max": 40}, {"ana", "cai", "dee"}),
        ({"age_min": 40, "age_max": 40}, {"cai", "dee"}),
        ({"age_min": 41}, {"eve"}),
        ({"age_min": 0, "age_max": 130}, {"ana", "ben", "cai", "dee", "eve", "fay"}),
        ({"age_min": 100}, set()),
        ({"gender": "male", "blood_type": "O+"}, {"cai"}),
        ({"gender": "female", "age_max": 40}, {"ana"}),
        ({"q": "filterton", "blood_type": "O+", "age_min": 6}, {"ana", "cai"}),
        ({"q": "eve", "gender": "female"}, {"eve"}),
        ({"q": "eve", "gender": "male"}, set()),
        ({"q": "ben"}, {"ben"}),
        ({"q": "", "gender": "other"}, {"dee"}),
    ],
)
async def test_filters_alone_and_combined(
    client: httpx.AsyncClient, clinic: Clinic, params: dict[str, Any], expected: set[str]
) -> None:
    ids = await _seed(client, clinic)
    assert await _names(client, clinic.headers["doctor"], ids, **params) == expected


async def test_unencoded_plus_in_a_blood_type_is_read_as_plus(
    client: httpx.AsyncClient, clinic: Clinic
) -> None:
    ids = await _seed(client, clinic)
    response = await client.get(
        "/api/patients/search?blood_type=O+", headers=clinic.headers["nurse"]
    )
    assert response.status_code == 200, response.text
    assert {ids[item["id"]] for item in response.json()["items"]} == {"ana", "cai", "fay"}


async def test_filtered_pages_are_exact(client: httpx.AsyncClient, clinic: Clinic) -> None:
    ids = await _seed(client, clinic)
    seen: list[str] = []
    for page in (1, 2, 3):
        response = await client.get(
            "/api/patients/search",
            params={"age_min": 6, "page": page, "per_page": 2},
            headers=clinic.headers["clerk"],
        )
        body = response.json()
        assert body["total"] == 5
        assert (body["page"], body["page_size"]) == (page, 2)
        seen.extend(ids[item["id"]] for item in body["items"])
    assert sorted(seen) == ["ana", "ben", "cai", "dee", "eve"]


async def test_filters_stay_in_the_organization(
    client: httpx.AsyncClient, container: Container, clinic: Clinic
) -> None:
    ids = await _seed(client, clinic)
    other = await open_clinic(client, container)
    await add_patient(client, other.headers["clerk"], gender="male", blood_type="O+")
    assert await _names(client, clinic.headers["clerk"], ids, gender="male") == {"ben", "cai"}
    assert await _names(client, other.headers["clerk"], ids, gender="male") == {"other-clinic"}


async def test_a_patient_finds_only_themselves(
    client: httpx.AsyncClient, container: Container, clinic: Clinic
) -> None:
    ids = await _seed(client, clinic)
    ana = next(key for key, name in ids.items() if name == "ana")
    _user, headers = await patient_account(client, container, clinic, ana)
    assert await _names(client, headers, ids, blood_type="O+") == {"ana"}
    assert await _names(client, headers, ids, gender="male") == set()


@pytest.mark.parametrize(
    ("params", "code", "field", "words"),
    [
        ({"age_min": 50, "age_max": 20}, "search_filter_invalid", "age_max", "at least age_min"),
        ({"age_min": -1}, "request_invalid", "age_min", "greater than or equal to 0"),
        ({"age_max": 500}, "request_invalid", "age_max", "less than or equal to 130"),
        ({"age_min": "ten"}, "request_invalid", "age_min", "integer"),
        ({"blood_type": "C+"}, "search_filter_invalid", "blood_type", "A+, A-, B+"),
        ({"blood_type": "O"}, "search_filter_invalid", "blood_type", "%2B"),
        ({"gender": "x"}, "search_filter_invalid", "gender", "female, male, other, unknown"),
        ({"q": "ada", "gender": "m"}, "search_filter_invalid", "gender", "female, male"),
    ],
)
async def test_invalid_filters_say_what_is_allowed(
    client: httpx.AsyncClient,
    clinic: Clinic,
    params: dict[str, Any],
    code: str,
    field: str,
    words: str,
) -> None:
    response = await client.get(
        "/api/patients/search", params=params, headers=clinic.headers["clerk"]
    )
    body = problem(response, 422, code)
    assert [error["field"] for error in body["errors"]] == [field]
    assert words in body["detail"] + body["errors"][0]["message"], body


async def test_updates_move_the_tokens(client: httpx.AsyncClient, clinic: Clinic) -> None:
    ids = await _seed(client, clinic)
    ben = next(key for key, name in ids.items() if name == "ben")
    changed = await client.put(
        f"/api/patients/{ben}",
        json={"gender": "Female", "date_of_birth": _years_ago(70)},
        headers=clinic.headers["clerk"],
    )
    assert changed.status_code == 200, changed.text
    clinical = await client.put(
        f"/api/patients/{ben}", json={"blood_type": "B-"}, headers=clinic.headers["doctor"]
    )
    assert clinical.status_code == 200, clinical.text
    headers = clinic.headers["clerk"]
    assert await _names(client, headers, ids, gender="female") == {"ana", "ben", "eve"}
    assert await _names(client, headers, ids, gender="male") == {"cai"}
    assert await _names(client, headers, ids, blood_type="B-") == {"ben"}
    assert await _names(client, headers, ids, blood_type="A-") == set()
    assert await _names(client, headers, ids, age_min=70, age_max=70) == {"ben"}


async def test_imported_patients_have_an_unknown_gender(
    client: httpx.AsyncClient, container: Container, clinic: Clinic
) -> None:
    visit = Visit(
        line=2,
        mrn="IMP-77",
        first_name="Imogen",
        last_name="Importer",
        recorded_at=utcnow(),
        notes="first visit",
    )
    provenance = Provenance(job_id=uuid7(), source_name="visits.csv", processed_at=utcnow())
    async with container.db.unit_of_work() as session:
        outcome = await RecordImportService(session, container).write_batch(
            [visit], organization_id=clinic.org.id, provenance=provenance
        )
    assert outcome.inserted == 1
    response = await client.get(
        "/api/patients/search",
        params={"q": "imogen", "gender": "unknown"},
        headers=clinic.headers["clerk"],
    )
    assert response.json()["total"] == 1
    # Without a date of birth an imported patient has no age to match.
    no_age = await client.get(
        "/api/patients/search",
        params={"q": "imogen", "age_max": 130},
        headers=clinic.headers["clerk"],
    )
    assert no_age.json()["total"] == 0


async def test_start_up_backfills_patients_written_before_the_filters(
    client: httpx.AsyncClient, container: Container, clinic: Clinic
) -> None:
    ids = await _seed(client, clinic)
    filter_kinds = (GENDER, BLOOD_TYPE, BIRTH_YEAR)
    async with container.db.unit_of_work() as session:
        await session.execute(
            delete(PatientSearchToken).where(PatientSearchToken.kind.in_(filter_kinds))
        )
    headers = clinic.headers["clerk"]
    assert await _names(client, headers, ids, gender="male") == set()

    assert await backfill_filter_tokens(container, batch=4) == len(ids)
    assert await backfill_filter_tokens(container) == 0
    assert await _names(client, headers, ids, gender="male") == {"ben", "cai"}
    assert await _names(client, headers, ids, age_min=30, age_max=40) == {"ana", "cai", "dee"}
    assert await _names(client, headers, ids, q="ana") == {"ana"}  # name tokens kept
    async with container.db.sessions() as session:
        kinds = (await session.scalars(select(PatientSearchToken.kind))).all()
    assert {kind: kinds.count(kind) for kind in filter_kinds} == {
        GENDER: 6,
        BLOOD_TYPE: 5,
        BIRTH_YEAR: 6,
    }


async def test_an_app_starting_on_old_rows_backfills_them_before_serving(
    client: httpx.AsyncClient,
    container: Container,
    clinic: Clinic,
    settings: Settings,
    tmp_path: Path,
) -> None:
    ids = await _seed(client, clinic)
    async with container.db.unit_of_work() as session:
        await session.execute(delete(PatientSearchToken).where(PatientSearchToken.kind == GENDER))
    restarted = create_app(
        make_settings(
            tmp_path, settings.database_url, keys_url=settings.keys_url, workflows_enabled=False
        )
    )
    async with restarted.router.lifespan_context(restarted):
        transport = httpx.ASGITransport(app=restarted)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            found = await _names(http, clinic.headers["clerk"], ids, gender="female")
    assert found == {"ana", "eve"}


async def test_a_row_that_does_not_decrypt_is_passed_over_and_the_others_backfilled(
    client: httpx.AsyncClient, container: Container, clinic: Clinic
) -> None:
    ids = await _seed(client, clinic)
    broken = next(patient_id for patient_id, name in ids.items() if name == "ben")
    async with container.db.unit_of_work() as session:
        await session.execute(delete(PatientSearchToken).where(PatientSearchToken.kind == GENDER))
        # Another column's ciphertext in the MRN: authentication fails on load.
        await session.execute(
            update(Patient)
            .where(Patient.id == uuid.UUID(broken))
            .values(
                mrn=select(Patient.first_name)
                .where(Patient.id == uuid.UUID(broken))
                .scalar_subquery()
            )
            .execution_options(synchronize_session=False)
        )
    assert await backfill_filter_tokens(container, batch=4) == len(ids) - 1
    assert await backfill_filter_tokens(container) == 0
    headers = clinic.headers["clerk"]
    assert await _names(client, headers, ids, gender="female") == {"ana", "eve"}
