"""The records-platform design README's examples, one row each: request -> status and shape.

A row names who sends it (a role of the clinic, or nobody), the method, the
path and body (with `{placeholders}` filled from earlier answers), the status
clinvault answers and the keys the answer holds. Where clinvault differs on
purpose (docs/porting.md) the row shows what a ported client gets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from tests.factories import DEFAULT_PASSWORD, create_org, create_user

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role

PROBLEM = ("type", "title", "status", "code", "detail")
PAGE = ("items", "total", "page", "page_size")
PATIENT = ("id", "mrn", "first_name", "last_name", "date_of_birth", "gender", "blood_type")
RECORD = ("id", "patient_id", "record_type", "title", "content", "priority")
APPOINTMENT = ("id", "patient_id", "practitioner_id", "starts_at", "ends_at", "status")
USER = ("id", "email", "display_name", "roles", "organization_id")
STARTS = datetime(2031, 3, 3, 9, tzinfo=UTC)

DESIGN_PATIENT = {
    "first_name": "John",
    "last_name": "Doe",
    "date_of_birth": "1985-06-15",
    "gender": "Male",
    "phone": "+1-555-123-4567",
    "email": "john.doe@example.com",
    "address": "123 Main St, Anytown, USA",
    "blood_type": "O+",
    "allergies": "Penicillin",
    "emergency_contact": "Jane Doe, +1-555-987-6543",
}


@dataclass(frozen=True)
class Example:
    name: str
    role: str | None
    method: str
    path: str
    status: int
    keys: tuple[str, ...] = ()
    body: dict[str, Any] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    # Values the answer must hold, and a name to keep its id under for later rows.
    expect: dict[str, Any] = field(default_factory=dict)
    keep: str | None = None
    code: str | None = None


EXAMPLES = [
    # Authentication
    Example(
        "register with the design's body names the missing organization",
        None,
        "POST",
        "/api/auth/register",
        422,
        PROBLEM,
        body={
            "username": "newpatient",
            "email": "new.patient@example.com",
            "password": "a long enough passphrase 1",
            "first_name": "New",
            "last_name": "Patient",
        },
        code="request_invalid",
    ),
    Example(
        "register with the design's body and the organization",
        None,
        "POST",
        "/api/auth/register",
        201,
        USER,
        body={
            "username": "newpatient",
            "email": "new.patient@example.com",
            "password": "a long enough passphrase 1",
            "first_name": "New",
            "last_name": "Patient",
            "organization": "{org}",
        },
        expect={"roles": ["patient"], "display_name": "New Patient"},
    ),
    Example(
        "register as a doctor is refused",
        None,
        "POST",
        "/api/auth/register",
        403,
        PROBLEM,
        body={
            "username": "selfdoctor",
            "email": "self.doctor@example.com",
            "password": "a long enough passphrase 1",
            "first_name": "Self",
            "last_name": "Doctor",
            "role": "doctor",
            "organization": "{org}",
        },
    ),
    Example(
        "login with username and password",
        None,
        "POST",
        "/api/auth/login",
        200,
        ("access_token", "refresh_token", "token_type", "expires_in", "user"),
        body={"username": "{doctor_email}", "password": DEFAULT_PASSWORD},
        expect={"token_type": "bearer"},
    ),
    Example(
        "login with a wrong password",
        None,
        "POST",
        "/api/auth/login",
        401,
        PROBLEM,
        body={"username": "{doctor_email}", "password": "not the password at all"},
    ),
    Example("profile", "doctor", "GET", "/api/auth/profile", 200, USER),
    Example(
        "profile update: name, phone, time zone",
        "nurse",
        "PUT",
        "/api/auth/profile",
        200,
        USER,
        body={
            "first_name": "Florence",
            "last_name": "Nightingale",
            "phone": "+1-212-555-0142",
            "time_zone": "America/New_York",
        },
        expect={"phone": "+12125550142", "time_zone": "America/New_York"},
    ),
    Example(
        "profile update cannot change the role",
        "nurse",
        "PUT",
        "/api/auth/profile",
        422,
        PROBLEM,
        body={"role": "admin"},
    ),
    # Patients
    Example(
        "create a patient with the design's body",
        "clerk",
        "POST",
        "/api/patients/",
        201,
        PATIENT,
        body=DESIGN_PATIENT,
        expect={"gender": "male", "phone": "+15551234567", "blood_type": "O+"},
        keep="patient",
    ),
    Example(
        "a phone too short to be real is refused",
        "clerk",
        "POST",
        "/api/patients/",
        422,
        PROBLEM,
        body={**DESIGN_PATIENT, "phone": "+1-555-1234"},
    ),
    Example(
        "list patients, page and per_page",
        "doctor",
        "GET",
        "/api/patients/",
        200,
        PAGE,
        params={"page": 1, "per_page": 50},
        expect={"total": 1, "page": 1, "page_size": 50},
    ),
    Example(
        "search by name",
        "doctor",
        "GET",
        "/api/patients/search",
        200,
        PAGE,
        params={"q": "John"},
        expect={"total": 1},
    ),
    Example(
        "search with the design's filters",
        "doctor",
        "GET",
        "/api/patients/search",
        200,
        PAGE,
        params={"q": "Doe", "gender": "Male", "blood_type": "O+", "age_min": 18, "age_max": 90},
        expect={"total": 1},
    ),
    Example(
        "filters without q",
        "nurse",
        "GET",
        "/api/patients/search",
        200,
        PAGE,
        params={"gender": "female"},
        expect={"total": 0},
    ),
    Example(
        "an unknown blood type is refused",
        "nurse",
        "GET",
        "/api/patients/search",
        422,
        PROBLEM,
        params={"blood_type": "Z+"},
        code="search_filter_invalid",
    ),
    Example(
        "a mistyped parameter is refused, not ignored",
        "nurse",
        "GET",
        "/api/patients/",
        400,
        PROBLEM,
        params={"per_pag": 50},
        code="query_parameter_unknown",
    ),
    Example("get a patient", "nurse", "GET", "/api/patients/{patient}", 200, PATIENT),
    Example(
        "a design integer id names the field",
        "nurse",
        "GET",
        "/api/patients/1",
        422,
        PROBLEM,
        code="request_invalid",
    ),
    Example(
        "update a patient's allergies",
        "doctor",
        "PUT",
        "/api/patients/{patient}",
        200,
        PATIENT,
        body={"allergies": "Penicillin, latex"},
        expect={"allergies": "Penicillin, latex"},
    ),
    # Medical records
    Example(
        "create a record",
        "doctor",
        "POST",
        "/api/records/",
        201,
        RECORD,
        body={
            "patient_id": "{patient}",
            "record_type": "consultation",
            "title": "Annual physical",
            "content": "Blood pressure 120/80. No complaints.",
            "priority": "normal",
        },
        keep="record",
    ),
    Example("read a record", "doctor", "GET", "/api/records/{record}", 200, RECORD),
    Example("a clerk may not read records", "clerk", "GET", "/api/records/{record}", 403, PROBLEM),
    Example(
        "a patient's records (design path)",
        "doctor",
        "GET",
        "/api/patients/{patient}/records",
        200,
        PAGE,
        params={"page": 1, "per_page": 10},
        expect={"total": 1, "page_size": 10},
    ),
    Example(
        "a patient's records (records path)",
        "nurse",
        "GET",
        "/api/records/patient/{patient}",
        200,
        PAGE,
        expect={"total": 1},
    ),
    # Appointments
    Example(
        "book an appointment",
        "clerk",
        "POST",
        "/api/appointments/",
        201,
        APPOINTMENT,
        body={
            "patient_id": "{patient}",
            "practitioner_id": "{doctor_id}",
            "starts_at": STARTS.isoformat(),
            "ends_at": (STARTS + timedelta(minutes=30)).isoformat(),
            "reason": "Follow-up",
        },
        expect={"status": "scheduled"},
    ),
    Example(
        "list appointments",
        "doctor",
        "GET",
        "/api/appointments/",
        200,
        PAGE,
        params={"per_page": 5},
        expect={"total": 1, "page_size": 5},
    ),
    # Administration
    Example(
        "audit logs for an administrator",
        "org_admin",
        "GET",
        "/api/audit/logs",
        200,
        ("items", "total"),
        params={"page": 1, "per_page": 20},
    ),
    Example("audit logs refused to a nurse", "nurse", "GET", "/api/audit/logs", 403, PROBLEM),
    Example("users for an administrator", "org_admin", "GET", "/api/users/", 200, ("items",)),
    Example("users refused to a doctor", "doctor", "GET", "/api/users/", 403, PROBLEM),
    Example(
        "change password with the design's field names",
        "patient",
        "POST",
        "/api/auth/change-password",
        204,
        body={"old_password": DEFAULT_PASSWORD, "new_password": "another long passphrase 2"},
    ),
    # Health
    Example(
        "health",
        None,
        "GET",
        "/api/health/health",
        200,
        ("status",),
        expect={"status": "healthy"},
    ),
    Example("no token", None, "GET", "/api/patients/", 401, PROBLEM),
]


def _fill(value: Any, known: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**known) if "{" in value else value
    if isinstance(value, dict):
        return {key: _fill(item, known) for key, item in value.items()}
    return value


async def _sign_in(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    body = {"username": email, "password": DEFAULT_PASSWORD}
    response = await client.post("/api/auth/login", json=body)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def test_readme_examples(client: httpx.AsyncClient, container: Container) -> None:
    org = await create_org(container, allow_patient_registration=True)
    headers: dict[str, dict[str, str]] = {}
    known: dict[str, str] = {"org": org.slug}
    for role in (Role.ORG_ADMIN, Role.DOCTOR, Role.NURSE, Role.CLERK, Role.PATIENT):
        user = await create_user(container, org, roles=[role])
        headers[role.value] = await _sign_in(client, user.email)
        known[f"{role.value}_email"] = user.email
        known[f"{role.value}_id"] = str(user.id)

    failures: list[str] = []
    for example in EXAMPLES:
        response = await client.request(
            example.method,
            _fill(example.path, known),
            json=_fill(example.body, known),
            params=_fill(example.params, known),
            headers=headers.get(example.role or "", {}),
        )
        if response.status_code != example.status:
            failures.append(f"{example.name}: {response.status_code} {response.text[:300]}")
            continue
        if example.status == 204:
            assert not response.content, example.name
            continue
        body = response.json()
        missing = [key for key in example.keys if key not in body]
        wrong = {
            key: body.get(key) for key, value in example.expect.items() if body.get(key) != value
        }
        if example.code is not None and body.get("code") != example.code:
            wrong["code"] = body.get("code")
        if example.keys == PROBLEM:
            assert response.headers["content-type"] == "application/problem+json", example.name
        if missing or wrong:
            failures.append(f"{example.name}: missing {missing}, differs {wrong}")
        if example.keep is not None and "id" in body:
            known[example.keep] = body["id"]
    assert not failures, "\n".join(failures)
