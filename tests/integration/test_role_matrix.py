"""Every case of clinvault.access_matrix, sent as every actor: the exact status, or a failure.

The world is built once (two provider tenants, two pharmacies, one account
per role, a linked patient chart, records, appointments, credential documents,
prescriptions, care plans and their shares): signing in a dozen
accounts dominates the run time. Every case that exists for an actor is sent;
the failures are listed together, one line per cell.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl, urlsplit

import httpx
from fastapi import FastAPI
from tests.factories import DEFAULT_PASSWORD, unique, unique_npi
from tests.integration.role_matrix_careplans import BUILDERS as CAREPLAN_BUILDERS
from tests.integration.role_matrix_prescriptions import BUILDERS as PRESCRIPTION_BUILDERS
from tests.integration.role_matrix_self_service import BUILDERS as SELF_SERVICE_BUILDERS
from tests.integration.role_matrix_world import (
    ATTACHMENT,
    Account,
    Request,
    World,
    build_world,
)

from clinvault.access_matrix import CASES, COVERED_PREFIXES, Actor, Case, Scenario, routes
from clinvault.bootstrap import Container

Builder = Callable[[World, Case, Actor], Awaitable[Request]]


def _fresh(case: Case, actor: Actor) -> bool:
    """Whether the request may change its target: then it gets a target of its own.

    A request expected to be refused shares the read targets: if it is wrongly
    let through, that cell fails anyway.
    """
    expected = case.expected[actor]
    return case.method != "GET" and expected is not None and expected < 300


async def _chart_patient(world: World, scenario: Scenario) -> str:
    """The chart the scenario is about: the actor's own, someone else's, a foreign one."""
    if scenario is Scenario.OWN:
        own: str = world.cache["own patient"]
        return own
    foreign = scenario is Scenario.FOREIGN
    found: str = await world.once(f"patient {foreign}", lambda: world.patient(foreign=foreign))
    return found


async def _patient(world: World, case: Case, actor: Actor) -> str:
    if _fresh(case, actor) and case.scenario is not Scenario.OWN:
        return await world.patient(foreign=case.scenario is Scenario.FOREIGN)
    return await _chart_patient(world, case.scenario)


async def _record(world: World, case: Case, actor: Actor) -> str:
    patient = await _chart_patient(world, case.scenario)
    foreign = case.scenario is Scenario.FOREIGN
    if _fresh(case, actor):
        return await world.record(patient, foreign=foreign)
    key = f"record {case.scenario}"
    found: str = await world.once(key, lambda: world.record(patient, foreign=foreign))
    return found


async def _appointment(world: World, case: Case, actor: Actor) -> str:
    patient = await _chart_patient(world, case.scenario)
    foreign = case.scenario is Scenario.FOREIGN
    if _fresh(case, actor):
        return await world.appointment(patient, foreign=foreign)
    key = f"appointment {case.scenario}"
    found: str = await world.once(key, lambda: world.appointment(patient, foreign=foreign))
    return found


def _owner(world: World, case: Case, actor: Actor) -> Account:
    """Whose credential document or notification the case targets."""
    if case.scenario is Scenario.OWN:
        account = world.account(actor)
        assert account is not None
        return account
    if case.scenario is Scenario.FOREIGN:
        return world.foreign["doctor"]
    return world.staff["colleague"]


async def _document(world: World, case: Case, actor: Actor) -> tuple[str, str]:
    owner = _owner(world, case, actor)
    if _fresh(case, actor):
        reference, document = await world.submission(owner)
        reviewer = world.staff["credentialing_reviewer"]
        if case.scenario is not Scenario.FOREIGN and owner is not reviewer:
            url = f"/api/credentials/documents/{document}"
            await world.call(reviewer, "GET", url)
            if case.action == "credentials.documents.replace":
                rejection = {"decision": "rejected", "reason_code": "illegible", "note": "Blurred."}
                await world.call(reviewer, "POST", f"{url}/decision", json=rejection)
        return reference, document
    found: tuple[str, str] = await world.once(
        f"submission {owner.id}", lambda: world.submission(owner)
    )
    return found


async def _user(world: World, case: Case, actor: Actor) -> str:
    if case.scenario is Scenario.OWN:
        account = world.account(actor)
        assert account is not None
        return str(account.id)
    foreign = case.scenario is Scenario.FOREIGN
    if not _fresh(case, actor):
        return str((world.foreign["org_admin"] if foreign else world.staff["colleague"]).id)
    user = await world.user(foreign=foreign)
    if case.action == "users.activate":
        manager = world.tenant(foreign)["org_admin"]
        await world.call(manager, "POST", f"/api/users/{user}/deactivate")
    return user


def _foreign_filter(world: World, case: Case) -> dict[str, str]:
    return {"organization_id": str(world.other.id)} if case.scenario is Scenario.FOREIGN else {}


async def patients_create(world: World, case: Case, actor: Actor) -> Request:
    body = {"first_name": "New", "last_name": "Patient", "date_of_birth": "1990-01-01"}
    return Request("POST", "/api/patients/", json={**body, "gender": "male"})


async def patients_duplicates(world: World, case: Case, actor: Actor) -> Request:
    body = {"first_name": "Matrix", "last_name": "Patient", "date_of_birth": "1990-01-01"}
    return Request("POST", case.path, json=body)


async def patient_item(world: World, case: Case, actor: Actor) -> Request:
    url = case.path.format(patient_id=await _patient(world, case, actor))
    if case.action == "records.patient.update":
        clinical = case.variant == "clinical fields"
        body = {"allergies": "penicillin"} if clinical else {"last_name": "Renamed"}
        return Request("PUT", url, json=body)
    if case.action == "records.patient.link_user":
        return Request("POST", url, json={"user_id": None})
    return Request(case.method, url)


async def records_create(world: World, case: Case, actor: Actor) -> Request:
    patient = await _chart_patient(world, case.scenario)
    body = {"patient_id": patient, "record_type": "note", "title": "Visit", "content": "Seen."}
    return Request("POST", "/api/records/", json={**body, "priority": "normal"})


async def records_list(world: World, case: Case, actor: Actor) -> Request:
    if case.scenario is Scenario.FOREIGN:
        patient = await _chart_patient(world, case.scenario)
        return Request("GET", "/api/records/", params={"patient_id": patient})
    return Request("GET", "/api/records/")


async def record_item(world: World, case: Case, actor: Actor) -> Request:
    if "{patient_id}" in case.path:
        return Request("GET", case.path.format(patient_id=await _patient(world, case, actor)))
    record = await _record(world, case, actor)
    if case.action == "records.attachment.create":
        return Request("POST", case.path.format(record_id=record), files=ATTACHMENT)
    if case.action == "records.attachment.read":
        foreign = case.scenario is Scenario.FOREIGN
        attachment = await world.once(
            f"attachment {case.scenario}", lambda: world.attachment(record, foreign=foreign)
        )
        return Request("GET", case.path.format(record_id=record, attachment_id=attachment))
    url = case.path.format(record_id=record)
    if case.action == "records.record.amend":
        body = {"title": "Visit (corrected)", "content": "Seen; corrected dose."}
        return Request("POST", url, json=body)
    return Request(case.method, url)


async def appointments_create(world: World, case: Case, actor: Actor) -> Request:
    patient = await _chart_patient(world, case.scenario)
    return Request("POST", "/api/appointments/", json=world.appointment_body(patient))


async def appointment_item(world: World, case: Case, actor: Actor) -> Request:
    url = case.path.format(appointment_id=await _appointment(world, case, actor))
    if case.action == "records.appointment.reschedule":
        starts_at, ends_at = world.slot()
        return Request("PUT", url, json={"starts_at": starts_at, "ends_at": ends_at})
    return Request(case.method, url)


async def users_collection(world: World, case: Case, actor: Actor) -> Request:
    if case.action == "users.create":
        body = {"email": f"{unique('member')}@example.org", "password": DEFAULT_PASSWORD}
        # A member of the actor's own kind of organization (the platform has no nurses).
        roles = ["org_admin"] if actor is Actor.ADMIN else ["nurse"]
        return Request(
            "POST", case.path, json={**body, "display_name": "New member", "roles": roles}
        )
    return Request("GET", case.path, params=_foreign_filter(world, case))


async def user_item(world: World, case: Case, actor: Actor) -> Request:
    url = case.path.format(user_id=await _user(world, case, actor))
    if case.method in {"PUT", "PATCH"}:
        return Request(case.method, url, json={"display_name": "Renamed member"})
    return Request(case.method, url)


async def account_route(world: World, case: Case, actor: Actor) -> Request:
    """Password reset (open to everyone) and pending invitations (administrators)."""
    if case.action == "auth.password_reset.request":
        return Request("POST", case.path, json={"email": f"{unique('reset')}@example.org"})
    if case.action == "auth.password_reset.confirm":
        body = {"token": "x" * 43, "new_password": DEFAULT_PASSWORD}
        return Request("POST", case.path, json=body)
    if case.action == "invitations.list":
        return Request("GET", case.path)
    if case.action == "invitations.create":
        # A member of the actor's own kind of organization (the platform has no nurses).
        roles = ["org_admin"] if actor is Actor.ADMIN else ["nurse"]
        body = {"email": f"{unique('invitee')}@example.org", "roles": roles}
        return Request("POST", case.path, json=body)
    if case.action == "invitations.lookup":
        return Request("GET", case.path.format(token="x" * 43))
    if case.action == "invitations.accept":
        body = {"token": "x" * 43, "password": DEFAULT_PASSWORD, "display_name": "Matrix"}
        return Request("POST", case.path, json=body)
    foreign = case.scenario is Scenario.FOREIGN
    manager = world.tenant(foreign)["org_admin"]

    async def invite() -> str:
        body = {"email": f"{unique('invitee')}@example.org", "roles": ["nurse"]}
        made = await world.call(manager, "POST", "/api/invitations", json=body)
        return str(made["id"])

    if _fresh(case, actor):
        invitation = await invite()
    else:
        invitation = await world.once(f"invitation {foreign}", invite)
    return Request(case.method, case.path.format(invitation_id=invitation))


async def audit_view(world: World, case: Case, actor: Actor) -> Request:
    return Request("GET", case.path, params=_foreign_filter(world, case))


async def credentials_collection(world: World, case: Case, actor: Actor) -> Request:
    if case.action == "credentials.submissions.create":
        return Request("POST", case.path, **world.submission_form())
    if case.action == "credentials.categories.create":
        code = f"matrix_{next(world.slots)}"
        return Request("POST", case.path, json={"code": code, "label": "Matrix category"})
    params = {"within_days": "365"} if case.action == "credentials.expiring" else {}
    return Request("GET", case.path, params=params)


async def credential_item(world: World, case: Case, actor: Actor) -> Request:
    reference, document = await _document(world, case, actor)
    url = case.path.format(reference=reference, document_id=document)
    if case.action == "credentials.documents.decide":
        return Request("POST", url, json={"decision": "verified"})
    if case.action == "credentials.documents.replace":
        return Request("POST", url, **world.submission_form())
    return Request(case.method, url)


async def profile(world: World, case: Case, actor: Actor) -> Request:
    body = {"npi": unique_npi(), "specialty": "Family medicine"} if case.method == "PUT" else None
    return Request(case.method, case.path, json=body)


async def notifications(world: World, case: Case, actor: Actor) -> Request:
    if "{notification_id}" not in case.path:
        return Request(case.method, case.path)
    notification = await world.notification(_owner(world, case, actor))
    return Request("POST", case.path.format(notification_id=notification))


INGEST_FILE = (
    "medical_record_number,first_name,last_name,date_time,doctors_notes\n"
    "MX-1,Matrix,Import,2025-03-26T10:30:00-07:00,Seen.\n"
    "MX-2,Matrix,Import,not a date,Rejected row.\n"
)


async def _signed_put(world: World, foreign: bool = False) -> tuple[str, str]:
    """(upload id, job id) of a file sent by the tenant's clerk through a signed URL."""
    clerk = world.tenant(foreign)["clerk"]
    ticket = await world.call(clerk, "POST", "/api/ingest/uploads", json={"filename": "m.csv"})
    url = urlsplit(ticket["url"])
    job = await world.call(clerk, "PUT", f"{url.path}?{url.query}", content=INGEST_FILE)
    return str(ticket["upload_id"]), str(job["id"])


async def _finished_job(world: World, foreign: bool) -> tuple[str, str]:
    upload, job = await _signed_put(world, foreign)
    clerk = world.tenant(foreign)["clerk"]
    for _ in range(400):
        state = (await world.call(clerk, "GET", f"/api/ingest/jobs/{job}"))["state"]
        if state in {"completed", "completed_with_errors", "failed"}:
            return upload, job
        await asyncio.sleep(0.05)
    raise AssertionError(f"import job {job} did not finish")


async def ingest_route(world: World, case: Case, actor: Actor) -> Request:
    if case.action == "ingest.upload.create":
        return Request("POST", case.path, json={"filename": "visits.csv"})
    if case.action == "ingest.upload.content":
        clerk = world.staff["clerk"]
        ticket = await world.call(clerk, "POST", "/api/ingest/uploads", json={"filename": "m.csv"})
        url = urlsplit(ticket["url"])
        query = dict(parse_qsl(url.query))
        return Request("PUT", url.path, params=query, content=INGEST_FILE.encode())
    if case.action == "ingest.settings.update":
        return Request("PUT", case.path, json={"on_changed_row": "reject"})
    if "{" not in case.path:
        return Request(case.method, case.path)
    foreign = case.scenario is Scenario.FOREIGN
    upload, job = await world.once(f"ingest job {foreign}", lambda: _finished_job(world, foreign))
    return Request(case.method, case.path.format(upload_id=upload, job_id=job))


BUILDERS: dict[str, Builder] = {
    "records.patient.create": patients_create,
    "records.patient.duplicates": patients_duplicates,
    "records.patient.list": lambda w, c, a: _plain(c),
    "records.patient.search": lambda w, c, a: _plain(c, q="Matrix"),  # every chart's name
    "records.patient.read": patient_item,
    "records.patient.update": patient_item,
    "records.patient.link_user": patient_item,
    "records.record.create": records_create,
    "records.record.list": records_list,
    "records.record.types": lambda w, c, a: _plain(c),
    "records.record.read": record_item,
    "records.record.list_for_patient": record_item,
    "records.record.list_of_patient": record_item,
    "records.record.amend": record_item,
    "records.attachment.create": record_item,
    "records.attachment.read": record_item,
    "records.appointment.book": appointments_create,
    "records.appointment.list": lambda w, c, a: _plain(c),
    "records.appointment.read": appointment_item,
    "records.appointment.reschedule": appointment_item,
    "records.appointment.cancel": appointment_item,
    "users.list": users_collection,
    "users.roles": users_collection,
    "users.create": users_collection,
    "users.read": user_item,
    "users.change": user_item,
    "users.update": user_item,
    "users.deactivate": user_item,
    "users.activate": user_item,
    "auth.password_reset.request": account_route,
    "auth.password_reset.confirm": account_route,
    "invitations.list": account_route,
    "invitations.resend": account_route,
    "invitations.create": account_route,
    "invitations.lookup": account_route,
    "invitations.accept": account_route,
    "invitations.revoke": account_route,
    "audit.logs.list": audit_view,
    "audit.summary": audit_view,
    "audit.suspicious": audit_view,
    "credentials.submissions.create": credentials_collection,
    "credentials.mine": credentials_collection,
    "credentials.review_queue": credentials_collection,
    "credentials.expiring": credentials_collection,
    "credentials.categories.create": credentials_collection,
    "credentials.categories.list": credentials_collection,
    "credentials.profile.read": profile,
    "credentials.profile.update": profile,
    "credentials.submissions.read": credential_item,
    "credentials.documents.read": credential_item,
    "credentials.documents.content": credential_item,
    "credentials.documents.decide": credential_item,
    "credentials.documents.start_review": credential_item,
    "credentials.documents.replace": credential_item,
    "notifications.list": notifications,
    "notifications.read_all": notifications,
    "notifications.read": notifications,
    "ingest.upload.create": ingest_route,
    "ingest.upload.content": ingest_route,
    "ingest.upload.complete": ingest_route,
    "ingest.job.list": ingest_route,
    "ingest.job.read": ingest_route,
    "ingest.job.cancel": ingest_route,
    "ingest.job.error_report": ingest_route,
    "ingest.settings.read": ingest_route,
    "ingest.settings.update": ingest_route,
    **PRESCRIPTION_BUILDERS,
    **CAREPLAN_BUILDERS,
    **SELF_SERVICE_BUILDERS,
    "health.status": lambda w, c, a: _plain(c),
    "health.live": lambda w, c, a: _plain(c),
    "health.ready": lambda w, c, a: _plain(c),
    "health.info": lambda w, c, a: _plain(c),
    "health.metrics": lambda w, c, a: _plain(c),
}


async def _plain(case: Case, **params: str) -> Request:
    return Request(case.method, case.path, params=params)


async def _send(world: World, request: Request, account: Account | None) -> httpx.Response:
    return await world.client.request(
        request.method,
        request.url,
        params=request.params,
        json=request.json,
        data=request.data,
        files=request.files,
        content=request.content,
        headers={**request.headers, **(account.headers if account else {})},
    )


async def _cells_of(world: World, actor: Actor) -> tuple[int, list[str]]:
    """Send every case that exists for `actor`; (cells checked, one line per wrong cell)."""
    account = world.account(actor)
    failures: list[str] = []
    checked = 0
    for case in CASES:
        expected = case.expected[actor]
        if expected is None:
            continue
        try:
            request = await BUILDERS[case.action](world, case, actor)
        except AssertionError as exc:
            failures.append(f"{actor} | {case.key}: could not build the target: {exc}")
            continue
        response = await _send(world, request, account)
        checked += 1
        if response.status_code != expected:
            failures.append(
                f"{actor} | {case.key}: expected {expected}, got {response.status_code} "
                f"{response.text[:160]}"
            )
        elif actor is Actor.PATIENT and case.action in OWN_ROWS_ONLY and expected == 200:
            strangers = _foreign_rows(world, case, response.json())
            if strangers:
                failures.append(f"{actor} | {case.key}: lists charts {strangers}, not only own")
    return checked, failures


OWN_ROWS_ONLY = {
    "records.patient.list": "id",
    "records.patient.search": "id",
    "records.record.list": "patient_id",
    "records.appointment.list": "patient_id",
    "careplans.list": "patient_id",
}
"""A patient's lists, and the field naming the chart each row belongs to."""


def _foreign_rows(world: World, case: Case, body: object) -> set[str]:
    items = body["items"] if isinstance(body, dict) else body
    assert isinstance(items, list), f"{case.key}: not a list: {body!r:.160}"
    field = OWN_ROWS_ONLY[case.action]
    own_patient = world.cache["own patient"]
    return {str(item[field]) for item in items if str(item[field]) != own_patient}


async def test_every_route_answers_every_actor_as_the_matrix_says(
    client: httpx.AsyncClient, container: Container
) -> None:
    """One world for all actors: every state-changing case acts on a target of its own."""
    world = await build_world(client, container)
    failures: list[str] = []
    checked = 0
    for actor in Actor:
        count, wrong = await _cells_of(world, actor)
        assert count > 0, f"no case exists for {actor}"
        checked += count
        failures += wrong
    assert not failures, f"{len(failures)} of {checked} cells differ:\n" + "\n".join(failures)


def _operation_id(action: str, path: str, method: str) -> str:
    """FastAPI's default operationId: route name + path + method (fastapi.utils)."""
    return re.sub(r"\W", "_", action + path) + "_" + method.lower()


def test_every_covered_route_is_in_the_matrix_under_its_audit_name(app: FastAPI) -> None:
    registered = {
        (method.upper(), path): operation["operationId"]
        for path, operations in app.openapi()["paths"].items()
        if path.startswith(COVERED_PREFIXES)
        for method, operation in operations.items()
    }
    expected = {
        (method, path): _operation_id(action, path, method)
        for (method, path), action in routes().items()
    }
    missing = sorted(f"{m} {p}" for m, p in registered.keys() - expected.keys())
    absent = sorted(f"{m} {p}" for m, p in expected.keys() - registered.keys())
    renamed = sorted(
        f"{m} {p}: operation {registered[(m, p)]!r}, matrix action {routes()[(m, p)]!r}"
        for m, p in registered.keys() & expected.keys()
        if registered[(m, p)] != expected[(m, p)]
    )
    problems = [f"route without a matrix case: {item}" for item in missing]
    problems += [f"matrix case without a route: {item}" for item in absent]
    problems += [f"audit name differs: {item}" for item in renamed]
    assert not problems, "\n".join(problems)
