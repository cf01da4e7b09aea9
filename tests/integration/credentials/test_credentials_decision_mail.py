"""Decision emails are batched per submission (one per batch window, or at once when
nothing waits any more); the in-app notice of each decision is immediate."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from dbos import DBOS
from tests.factories import create_org, mail_text, mails_to, signed_in, wait_for_mail
from tests.integration.credentials.support import (
    FIVE_CATEGORIES,
    metadata,
    pdf_file,
    practitioner,
    submitted,
)

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role
from clinvault.models.credentials import CredentialSubmission


def _decision_mails(container: Container, address: str) -> list[EmailMessage]:
    return [
        message
        for message in mails_to(container, address)
        if "Decisions on your submission" in str(message["Subject"])
        or " was " in str(message["Subject"])
    ]


async def _decide(
    client: httpx.AsyncClient, headers: dict[str, str], document_id: str, **body: Any
) -> None:
    response = await client.post(
        f"/api/credentials/documents/{document_id}/decision",
        json=body or {"decision": "verified"},
        headers=headers,
    )
    assert response.status_code == 200, response.text


async def _setup(
    client: httpx.AsyncClient, container: Container, categories: tuple[str, ...]
) -> tuple[str, dict[str, str], dict[str, str], dict[str, Any]]:
    org = await create_org(container)
    _, reviewer = await signed_in(client, container, org, roles=[Role.CREDENTIALING_REVIEWER])
    user, headers = await practitioner(client, container, org)
    files = [pdf_file(f"{category}.pdf", n) for n, category in enumerate(categories)]
    created = await submitted(
        client, headers, files=files, entries=[metadata(category) for category in categories]
    )
    return user.email, headers, reviewer, created


async def _finished(container: Container, reference: str, created: dict[str, Any]) -> None:
    async with container.db.sessions() as session:
        submission_id = await session.scalar(
            sa.select(CredentialSubmission.id).where(CredentialSubmission.reference == reference)
        )
    handle = await DBOS.retrieve_workflow_async(f"credential-review-{submission_id}")
    assert await asyncio.wait_for(handle.get_result(), 30) == "reviewed"


async def test_five_decisions_make_one_email(
    client: httpx.AsyncClient, container: Container
) -> None:
    email, headers, reviewer, created = await _setup(client, container, FIVE_CATEGORIES)
    ids = [document["id"] for document in created["documents"]]
    for document_id in ids[:4]:
        await _decide(client, reviewer, document_id)
    await _decide(
        client, reviewer, ids[4], decision="rejected", reason_code="illegible", note="Blurred"
    )
    await _finished(container, created["reference"], created)
    message = await wait_for_mail(container, email, "4 verified, 1 rejected")
    assert created["reference"] in str(message["Subject"])
    text = mail_text(message)
    for label in ("Medical license", "Board certification", "Malpractice insurance"):
        assert label in text
    assert "not legible" in text
    assert "Blurred" not in text
    assert len(_decision_mails(container, email)) == 1
    notices = (await client.get("/api/notifications", headers=headers)).json()["items"]
    assert len([n for n in notices if n["title"].startswith("Your ")]) == 5


async def test_the_in_app_notice_is_immediate_and_the_email_waits(
    client: httpx.AsyncClient, container: Container
) -> None:
    email, headers, reviewer, created = await _setup(
        client, container, ("medical_license", "board_certification")
    )
    first, second = (document["id"] for document in created["documents"])
    await _decide(client, reviewer, first)
    for _ in range(200):
        notices = (await client.get("/api/notifications", headers=headers)).json()["items"]
        if any(n["title"] == "Your Medical license was verified" for n in notices):
            break
        await asyncio.sleep(0.05)
    else:
        pytest.fail("the in-app notice of the decision did not arrive")
    assert _decision_mails(container, email) == []
    await _decide(client, reviewer, second)
    await _finished(container, created["reference"], created)
    message = await wait_for_mail(container, email, "2 verified")
    assert "Board certification" in mail_text(message)
    assert len(_decision_mails(container, email)) == 1


async def test_a_batch_is_mailed_when_its_window_ends(
    client: httpx.AsyncClient, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(container.settings.credentials, "decision_mail_batch_seconds", 3.0)
    email, _, reviewer, created = await _setup(
        client, container, ("medical_license", "board_certification", "dea_registration")
    )
    ids = [document["id"] for document in created["documents"]]
    await _decide(client, reviewer, ids[0])
    await _decide(client, reviewer, ids[1])
    batch = await wait_for_mail(container, email, "2 verified")
    assert "DEA registration" not in mail_text(batch)
    await _decide(client, reviewer, ids[2])
    await _finished(container, created["reference"], created)
    last = await wait_for_mail(container, email, "DEA registration was verified")
    assert created["reference"] in str(last["Subject"])
    assert len(_decision_mails(container, email)) == 2
