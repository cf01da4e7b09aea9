"""Review: submitted -> in_review -> verified | rejected, replacement, notifications."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import sqlalchemy as sa
from dbos import DBOS
from tests.factories import create_org, mail_text, mails_to, problem, signed_in, wait_for_mail
from tests.integration.credentials.support import (
    metadata,
    pdf_file,
    practitioner,
    submitted,
)

from clinvault.bootstrap import Container
from clinvault.credentials.workflows import DECISION_TOPIC
from clinvault.identity.principal import Role
from clinvault.models.credentials import CredentialSubmission


async def _document(
    client: httpx.AsyncClient, headers: dict[str, str], document_id: str
) -> dict[str, Any]:
    response = await client.get(f"/api/credentials/documents/{document_id}", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _decide(
    client: httpx.AsyncClient, headers: dict[str, str], document_id: str, **body: Any
) -> httpx.Response:
    return await client.post(
        f"/api/credentials/documents/{document_id}/decision", json=body, headers=headers
    )


async def test_each_status_transition_and_the_practitioner_is_told(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    _, reviewer = await signed_in(client, container, org, roles=[Role.CREDENTIALING_REVIEWER])
    user, headers = await practitioner(client, container, org)
    files = [pdf_file("a.pdf", 1), pdf_file("b.pdf", 2)]
    entries = [metadata("medical_license"), metadata("board_certification")]
    created = await submitted(client, headers, files=files, entries=entries)
    first, second = (d["id"] for d in created["documents"])

    queue = await client.get("/api/credentials/review-queue", headers=reviewer)
    assert [d["id"] for d in queue.json()["items"]] == [first, second]
    assert queue.json()["total"] == 2

    assert (await _document(client, headers, first))["status"] == "submitted"
    assert (await _document(client, reviewer, first))["status"] == "in_review"
    submission = await client.get(
        f"/api/credentials/submissions/{created['reference']}", headers=headers
    )
    assert submission.json()["status"] == "in_review"

    verified = await _decide(client, reviewer, first, decision="verified")
    assert verified.status_code == 200, verified.text
    assert verified.json()["status"] == "verified"
    problem(
        await _decide(client, reviewer, first, decision="rejected"),
        409,
        "credential_already_decided",
    )

    problem(await _decide(client, reviewer, second, decision="rejected"), 422, "decision_invalid")
    rejected = await _decide(
        client, reviewer, second, decision="rejected", reason_code="illegible", note="Blurred scan"
    )
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["reason_code"] == "illegible"

    submission = await client.get(
        f"/api/credentials/submissions/{created['reference']}", headers=headers
    )
    assert submission.json()["status"] == "rejected"
    # Both decisions in one email: the last waiting document was decided.
    outcome = await wait_for_mail(container, user.email, "1 verified, 1 rejected")
    assert "not legible" in mail_text(outcome)
    assert "Blurred scan" not in mail_text(outcome)
    listing = (await client.get("/api/notifications", headers=headers)).json()
    kinds = {item["title"] for item in listing["items"]}
    assert any("rejected" in title for title in kinds)
    assert any("verified" in title for title in kinds)

    pending = await client.get(
        "/api/credentials/review-queue", params={"status": "verified"}, headers=reviewer
    )
    assert [d["id"] for d in pending.json()["items"]] == [first]


async def test_a_rejected_document_is_replaced_by_a_linked_version(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    _, reviewer = await signed_in(client, container, org, roles=[Role.CREDENTIALING_REVIEWER])
    _, headers = await practitioner(client, container, org)
    created = await submitted(
        client, headers, files=[pdf_file()], entries=[metadata("medical_license")]
    )
    old = created["documents"][0]["id"]
    form_body = {
        "data": {
            "metadata": '[{"category": "medical_license", "issuing_authority": "Board", '
            '"issued_on": "2024-01-01", "expires_on": "2030-01-01", '
            '"document_number": "MD-1"}]'
        },
        "files": [("files", pdf_file("new.pdf", 9))],
    }
    url = f"/api/credentials/documents/{old}/replacement"
    problem(await client.post(url, headers=headers, **form_body), 409, "credential_not_replaceable")
    await _decide(client, reviewer, old, decision="rejected", reason_code="expired", note="Old")

    replaced = await client.post(url, headers=headers, **form_body)
    assert replaced.status_code == 201, replaced.text
    assert replaced.json()["reference"] == created["reference"]
    new = replaced.json()["documents"][0]["id"]
    document = await _document(client, headers, new)
    assert document["version"] == 2
    assert document["replaces_id"] == old
    assert document["status"] == "submitted"
    assert (await _document(client, headers, old))["is_current"] is False
    mine = (await client.get("/api/credentials/mine", headers=headers)).json()
    assert [d["id"] for d in mine] == [new]
    problem(await client.post(url, headers=headers, **form_body), 409, "credential_not_replaceable")
    problem(await client.post(url, headers=reviewer, **form_body), 403, "permission_denied")

    await _decide(client, reviewer, new, decision="verified")
    submission = await client.get(
        f"/api/credentials/submissions/{created['reference']}", headers=headers
    )
    assert submission.json()["status"] == "verified"


async def test_reviewer_cannot_decide_own_documents(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    _, both = await practitioner(
        client, container, org, roles=[Role.DOCTOR, Role.CREDENTIALING_REVIEWER]
    )
    created = await submitted(
        client, both, files=[pdf_file()], entries=[metadata("medical_license")]
    )
    document_id = created["documents"][0]["id"]
    problem(await _decide(client, both, document_id, decision="verified"), 403, "permission_denied")
    assert (await _document(client, both, document_id))["status"] == "submitted"
    _, doctor = await practitioner(client, container, org)
    own = await submitted(client, doctor, files=[pdf_file()], entries=[metadata("medical_license")])
    problem(
        await _decide(client, doctor, own["documents"][0]["id"], decision="verified"),
        403,
        "permission_denied",
    )


async def test_overdue_review_is_escalated_to_org_admins_once(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    admin, _ = await signed_in(client, container, org, roles=[Role.ORG_ADMIN])
    _, reviewer = await signed_in(client, container, org, roles=[Role.CREDENTIALING_REVIEWER])
    user, headers = await practitioner(client, container, org)
    created = await submitted(
        client, headers, files=[pdf_file()], entries=[metadata("medical_license")]
    )
    await wait_for_mail(container, user.email, created["reference"])
    async with container.db.unit_of_work() as session:
        await session.execute(
            sa.update(CredentialSubmission)
            .where(CredentialSubmission.reference == created["reference"])
            .values(estimated_review_by=date(2020, 1, 1))
        )
    workflow_id = f"credential-review-{await _submission_id(container, created['reference'])}"
    await DBOS.send_async(workflow_id, "nudge", DECISION_TOPIC)
    escalation = await wait_for_mail(container, admin.email, "overdue")
    assert created["reference"] in mail_text(escalation)
    await _decide(client, reviewer, created["documents"][0]["id"], decision="verified")
    await wait_for_mail(container, user.email, "was verified")
    assert len([m for m in mails_to(container, admin.email) if "overdue" in m["Subject"]]) == 1


async def _submission_id(container: Container, reference: str) -> str:
    async with container.db.sessions() as session:
        found = await session.scalar(
            sa.select(CredentialSubmission.id).where(CredentialSubmission.reference == reference)
        )
    return str(found)
