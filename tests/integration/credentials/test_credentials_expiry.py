"""The daily expiry job, driven with fixed dates: each reminder once, then `expired`."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import httpx
from dbos import DBOS
from tests.factories import create_org, mail_text, mails_to, signed_in
from tests.integration.credentials.support import metadata, pdf_file, practitioner, submitted

from clinvault.bootstrap import Container
from clinvault.credentials.expiry import due_threshold, run_expiry_sweep
from clinvault.credentials.workflows import EXPIRY_SCHEDULE, credential_expiry_workflow
from clinvault.identity.principal import Role


def test_the_nearest_threshold_is_due() -> None:
    thresholds = [7, 30, 60, 90]
    assert due_threshold(120, thresholds) is None
    assert due_threshold(90, thresholds) == 90
    assert due_threshold(61, thresholds) == 90
    assert due_threshold(20, thresholds) == 30
    assert due_threshold(1, thresholds) == 7
    assert due_threshold(0, thresholds) == 0
    assert due_threshold(-3, thresholds) == 0


def _reminders(container: Container, address: str) -> list[str]:
    return [
        str(m["Subject"]) for m in mails_to(container, address) if "expire" in str(m["Subject"])
    ]


async def test_reminders_go_out_once_each_and_the_document_expires(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    reviewer, reviewer_headers = await signed_in(
        client, container, org, roles=[Role.CREDENTIALING_REVIEWER]
    )
    user, headers = await practitioner(client, container, org)
    today = date.today()
    expires = today + timedelta(days=100)
    created = await submitted(
        client,
        headers,
        files=[pdf_file(), pdf_file("cv.pdf", 3)],
        entries=[
            metadata("medical_license", expires_on=expires.isoformat()),
            metadata("curriculum_vitae"),
        ],
    )
    license_id = created["documents"][0]["id"]

    assert (await run_expiry_sweep(container, today)).reminded == 0
    for days_before in (90, 60, 30, 7):
        day = expires - timedelta(days=days_before)
        first = await run_expiry_sweep(container, day)
        again = await run_expiry_sweep(container, day + timedelta(days=1))
        assert first.reminded == 1, days_before
        assert again.reminded == 0
    assert len(_reminders(container, user.email)) == 4
    assert len(_reminders(container, reviewer.email)) == 4
    assert "in 7 days" in mail_text(
        next(m for m in mails_to(container, user.email) if "7 days" in str(m["Subject"]))
    )

    expiring = await client.get(
        "/api/credentials/expiring", params={"within_days": 200}, headers=reviewer_headers
    )
    assert [d["id"] for d in expiring.json()] == [license_id]

    swept = await run_expiry_sweep(container, expires)
    assert swept.expired == 1
    assert swept.reminded == 1
    assert (await run_expiry_sweep(container, expires + timedelta(days=1))).reminded == 0
    document = await client.get(f"/api/credentials/documents/{license_id}", headers=headers)
    assert document.json()["status"] == "expired"
    assert len(_reminders(container, user.email)) == 5
    submission = await client.get(
        f"/api/credentials/submissions/{created['reference']}", headers=headers
    )
    assert submission.json()["status"] == "in_review" or submission.json()["status"] == "submitted"
    notes = (await client.get("/api/notifications", headers=headers)).json()
    assert any("has expired" in item["title"] for item in notes["items"])


async def test_expiring_lists_own_documents_for_practitioners(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    _, first = await practitioner(client, container, org)
    _, second = await practitioner(client, container, org)
    soon = (date.today() + timedelta(days=20)).isoformat()
    mine = await submitted(
        client, first, files=[pdf_file()], entries=[metadata("medical_license", expires_on=soon)]
    )
    await submitted(
        client, second, files=[pdf_file()], entries=[metadata("medical_license", expires_on=soon)]
    )
    listed = await client.get("/api/credentials/expiring?within_days=30", headers=first)
    assert [d["id"] for d in listed.json()] == [mine["documents"][0]["id"]]
    assert listed.json()[0]["days_to_expiry"] == 20
    none = await client.get("/api/credentials/expiring?within_days=10", headers=first)
    assert none.json() == []


async def test_the_daily_schedule_runs_the_sweep_as_a_workflow(
    client: httpx.AsyncClient, container: Container
) -> None:
    schedules = await DBOS.list_schedules_async()
    assert any(s["schedule_name"] == EXPIRY_SCHEDULE for s in schedules)
    org = await create_org(container)
    user, headers = await practitioner(client, container, org)
    expires = date.today() + timedelta(days=45)
    await submitted(
        client,
        headers,
        files=[pdf_file()],
        entries=[metadata("medical_license", expires_on=expires.isoformat())],
    )
    scheduled_at = datetime.combine(expires - timedelta(days=30), time(6), UTC)
    handle = await DBOS.start_workflow_async(credential_expiry_workflow, scheduled_at, None)
    await handle.get_result()
    assert _reminders(container, user.email) == ["A Medical license expires in 30 days"]
