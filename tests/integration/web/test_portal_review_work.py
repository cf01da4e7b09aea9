"""The reviewer's work in the portal: whose document, explicit start and assignment, SLA,
completeness, the expiring view, and licence flags where a practitioner is booked."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from portal_helpers import post_form, sign_in
from tests.factories import create_org, create_user, signed_in
from tests.integration.credentials.support import metadata, pdf_file, practitioner, submitted

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role
from clinvault.models import AuditEvent
from clinvault.models.credentials import CredentialDocument
from clinvault.models.identity import Organization, User

CATEGORIES = ("medical_license", "board_certification", "dea_registration")


async def _set_name(container: Container, user: User, name: str) -> None:
    async with container.db.unit_of_work() as session:
        await session.execute(sa.update(User).where(User.id == user.id).values(display_name=name))


async def _setup(
    portal: httpx.AsyncClient, client: httpx.AsyncClient, container: Container, **expiry: str
) -> tuple[Organization, User, dict[str, str], list[str], User]:
    org = await create_org(container)
    doctor, doctor_headers = await practitioner(client, container, org)
    await _set_name(container, doctor, "Dr Grace Hopper")
    entries = [
        metadata(category, **({"expires_on": expiry[category]} if category in expiry else {}))
        for category in CATEGORIES
    ]
    files = [pdf_file(f"{category}.pdf", n) for n, category in enumerate(CATEGORIES)]
    created = await submitted(client, doctor_headers, files=files, entries=entries)
    ids = [document["id"] for document in created["documents"]]
    reviewer = await create_user(
        container, org, roles=[Role.CREDENTIALING_REVIEWER], display_name="Rita Reviewer"
    )
    await sign_in(portal, reviewer.email)
    return org, doctor, doctor_headers, ids, reviewer


async def _status(container: Container, document_id: str) -> CredentialDocument:
    async with container.db.sessions() as session:
        found = await session.get(CredentialDocument, uuid.UUID(document_id))
    assert found is not None
    return found


async def test_the_queue_names_the_practitioner_and_review_starts_explicitly(
    portal: httpx.AsyncClient, client: httpx.AsyncClient, container: Container
) -> None:
    org, doctor, doctor_headers, ids, reviewer = await _setup(portal, client, container)
    npi = (await client.get("/api/credentials/profile", headers=doctor_headers)).json()["npi"]
    queue = await portal.get("/credentials/review")
    assert queue.status_code == 200
    assert "Dr Grace Hopper" in queue.text
    assert npi in queue.text
    assert f'href="https://npiregistry.cms.hhs.gov/provider-view/{npi}"' in queue.text
    assert "orthopedics" in queue.text
    assert "0 of 3 verified" in queue.text
    assert queue.text.count("Not started") == 3
    assert "Day 0 of 5" in queue.text

    page_url = f"/credentials/documents/{ids[0]}"
    page = await portal.get(page_url)
    assert "badge--submitted" in page.text
    assert "Record decision" not in page.text
    assert "Start review" in page.text
    assert "Dr Grace Hopper" in page.text
    assert "Check the licence on DocInfo (FSMB)" in page.text
    assert (await portal.get(f"{page_url}/content")).status_code == 200
    assert (await _status(container, ids[0])).status == "submitted"

    started = await post_form(portal, page_url, f"{page_url}/review", {})
    assert started.status_code == 303
    assert started.headers["location"] == f"{page_url}?notice=started"
    document = await _status(container, ids[0])
    assert document.status == "in_review"
    assert document.assigned_reviewer_id == reviewer.id
    assert document.review_started_by == reviewer.id
    assert document.review_started_at is not None
    after = await portal.get(page_url)
    assert "badge--in_review" in after.text
    assert "Record decision" in after.text
    assert "Rita Reviewer (started" in after.text

    async with container.db.sessions() as session:
        events = (
            await session.execute(
                sa.select(AuditEvent.detail, AuditEvent.resource_id).where(
                    AuditEvent.action == "portal.credentials.start_review",
                    AuditEvent.actor_id == reviewer.id,
                )
            )
        ).all()
    assert [(detail, resource) for detail, resource in events] == [("review_started", ids[0])]

    other = await create_user(
        container, org, roles=[Role.CREDENTIALING_REVIEWER], display_name="Otto Other"
    )
    second_url = f"/credentials/documents/{ids[1]}"
    assigned = await post_form(
        portal, second_url, f"{second_url}/review", {"assignee": str(other.id)}
    )
    assert assigned.status_code == 303
    assert (await _status(container, ids[1])).assigned_reviewer_id == other.id
    refused = await post_form(
        portal, second_url, f"{second_url}/review", {"assignee": str(doctor.id)}
    )
    assert refused.status_code == 422
    assert "Choose a credentialing reviewer of your organization" in refused.text
    assert (await _status(container, ids[1])).assigned_reviewer_id == other.id
    queue = await portal.get("/credentials/review")
    assert "Otto Other" in queue.text
    assert queue.text.count("Not started") == 1


async def test_the_api_read_still_opens_a_document_for_review(
    portal: httpx.AsyncClient, client: httpx.AsyncClient, container: Container
) -> None:
    org, _, _, ids, _ = await _setup(portal, client, container)
    api_reviewer, headers = await signed_in(
        client, container, org, roles=[Role.CREDENTIALING_REVIEWER]
    )
    body = (await client.get(f"/api/credentials/documents/{ids[2]}", headers=headers)).json()
    assert body["status"] == "in_review"
    assert body["assigned_reviewer_id"] == str(api_reviewer.id)
    assert body["review_started_at"] is not None
    started = await client.post(
        f"/api/credentials/documents/{ids[1]}/review", json={}, headers=headers
    )
    assert started.status_code == 200, started.text
    assert started.json()["status"] == "in_review"


async def test_an_overdue_document_is_marked_in_words(
    portal: httpx.AsyncClient, client: httpx.AsyncClient, container: Container
) -> None:
    _, _, _, ids, _ = await _setup(portal, client, container)
    long_ago = datetime.now(UTC) - timedelta(days=21)
    async with container.db.unit_of_work() as session:
        await session.execute(
            sa.update(CredentialDocument)
            .where(CredentialDocument.id == uuid.UUID(ids[0]))
            .values(created_at=long_ago)
        )
    queue = await portal.get("/credentials/review")
    overdue = re.findall(r'<tr class="is-overdue">.*?</tr>', queue.text, flags=re.S)
    assert len(overdue) == 1
    assert "Medical license" in overdue[0]
    assert re.search(r"⚠ </span>Overdue by \d+ business days", overdue[0])
    assert queue.text.count("Day 0 of 5") == 2


async def _verify(portal: httpx.AsyncClient, document_id: str, **fields: Any) -> None:
    page_url = f"/credentials/documents/{document_id}"
    started = await post_form(portal, page_url, f"{page_url}/review", {})
    assert started.status_code == 303
    decided = await post_form(
        portal, page_url, f"{page_url}/decision", {"decision": "verified", **fields}
    )
    assert decided.status_code == 303, decided.text


async def test_the_expiring_view_lists_verified_documents_by_window_and_category(
    portal: httpx.AsyncClient, client: httpx.AsyncClient, container: Container
) -> None:
    today = date.today()
    org, _, _, ids, _ = await _setup(
        portal,
        client,
        container,
        medical_license=(today + timedelta(days=20)).isoformat(),
        board_certification=(today + timedelta(days=200)).isoformat(),
    )
    empty = await portal.get("/credentials/expiring")
    assert "0 documents expiring within 60 days" in empty.text
    for document_id in ids[:2]:
        await _verify(portal, document_id)
    page = await portal.get("/credentials/expiring")
    assert page.status_code == 200
    assert "1 document expiring within 60 days" in page.text
    assert "Dr Grace Hopper" in page.text
    assert "Expires in 20 days" in page.text
    wider = await portal.get("/credentials/expiring", params={"days": 365})
    assert "2 documents expiring within 365 days" in wider.text
    only = await portal.get(
        "/credentials/expiring", params={"days": 365, "category": "board_certification"}
    )
    assert "1 document expiring within 365 days" in only.text
    assert "Expires in 200 days" in only.text
    document_page = await portal.get(f"/credentials/documents/{ids[2]}")
    assert "2 of 3 verified, 1 expiring in 30 days" in document_page.text

    admin = await create_user(container, org, roles=[Role.ORG_ADMIN])
    clerk = await create_user(container, org, roles=[Role.CLERK])
    portal.cookies.clear()
    await sign_in(portal, admin.email)
    assert "1 document expiring within 60 days" in (await portal.get("/credentials/expiring")).text
    portal.cookies.clear()
    await sign_in(portal, clerk.email)
    assert (await portal.get("/credentials/expiring")).status_code == 403


async def test_a_practitioner_with_a_rejected_licence_is_flagged_where_booked(
    portal: httpx.AsyncClient, client: httpx.AsyncClient, container: Container
) -> None:
    org, doctor, _, ids, _ = await _setup(portal, client, container)
    page_url = f"/credentials/documents/{ids[0]}"
    await post_form(portal, page_url, f"{page_url}/review", {})
    rejected = await post_form(
        portal,
        page_url,
        f"{page_url}/decision",
        {"decision": "rejected", "reason_code": "unverifiable", "note": "Board has no record."},
    )
    assert rejected.status_code == 303
    _, clerk_headers = await signed_in(client, container, org, roles=[Role.CLERK])
    patient = await client.post(
        "/api/patients/",
        json={"first_name": "Ada", "last_name": "Lovelace", "date_of_birth": "1985-12-10",
              "gender": "female"},
        headers=clerk_headers,
    )  # fmt: skip
    assert patient.status_code == 201, patient.text
    patient_id = patient.json()["id"]
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    booked = await client.post(
        "/api/appointments/",
        json={
            "patient_id": patient_id,
            "practitioner_id": str(doctor.id),
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(minutes=30)).isoformat(),
            "reason": "Check-up",
        },
        headers=clerk_headers,
    )
    assert booked.status_code == 201, booked.text

    clerk = await create_user(container, org, roles=[Role.CLERK])
    portal.cookies.clear()
    await sign_in(portal, clerk.email)
    flag = 'licence-flag"><span aria-hidden="true">⚠ </span>Licence rejected</span>'
    booking = await portal.get(f"/patients/{patient_id}/appointments/new")
    assert booking.status_code == 200
    assert "Dr Grace Hopper (Licence rejected)" in booking.text
    assert flag in booking.text
    chart = await portal.get(f"/patients/{patient_id}")
    assert flag in chart.text
    schedule = await portal.get(
        "/appointments", params={"start": starts.date().isoformat(), "practitioner": "all"}
    )
    assert flag in schedule.text

    portal.cookies.clear()
    await sign_in(portal, doctor.email)
    record_form = await portal.get(f"/patients/{patient_id}/records/new")
    assert record_form.status_code == 200
    assert flag in record_form.text
    assert "Records you write show this flag" in record_form.text
