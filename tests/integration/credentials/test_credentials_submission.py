"""A practitioner submits five documents; they are stored encrypted and confirmed once."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import date

import httpx
from tests.factories import create_org, mail_text, mails_to, signed_in, wait_for_mail
from tests.integration.credentials.support import (
    FIVE_CATEGORIES,
    count_rows,
    five_documents,
    metadata,
    pdf_file,
    practitioner,
    stored_files,
    submitted,
)

from clinvault.bootstrap import Container
from clinvault.cli.keys import rotate_keys
from clinvault.identity.principal import Role
from clinvault.ids import reference_is_valid


async def test_five_documents_are_stored_encrypted_and_confirmed_once(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    reviewer, reviewer_headers = await signed_in(
        client, container, org, roles=[Role.CREDENTIALING_REVIEWER]
    )
    user, headers = await practitioner(client, container, org)
    files, entries = five_documents()

    created = await submitted(client, headers, files=files, entries=entries)

    assert reference_is_valid(created["reference"])
    assert date.fromisoformat(created["estimated_review_by"]) > date.today()
    assert [d["category"] for d in created["documents"]] == list(FIVE_CATEGORIES)
    assert {d["status"] for d in created["documents"]} == {"submitted"}
    assert await count_rows(container) == {
        "credential_submissions": 1,
        "credential_documents": 5,
        "encrypted_objects": 5,
    }
    on_disk = stored_files(container, org)
    assert len(on_disk) == 5
    for path in on_disk:
        assert path.parent.parent.name == str(user.id)
        assert path.name == "v1"
        raw = path.read_bytes()
        assert b"%PDF" not in raw
        assert b"word/document.xml" not in raw

    confirmation = await wait_for_mail(container, user.email, created["reference"])
    text = mail_text(confirmation)
    assert "Medical license" in text
    assert "Curriculum vitae" in text
    await wait_for_mail(container, reviewer.email, created["reference"])
    await asyncio.sleep(0.5)
    to_practitioner = mails_to(container, user.email)
    assert len(to_practitioner) == 1
    raw_mail = confirmation.as_bytes()
    for _, data, _ in files:
        assert data[:200] not in raw_mail
    assert b"MD-448812" not in raw_mail

    notifications = await client.get("/api/notifications", headers=reviewer_headers)
    assert notifications.json()["unread"] == 1
    assert created["reference"] in notifications.json()["items"][0]["title"]


async def test_owner_reads_status_and_downloads_the_verified_bytes(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    _, headers = await practitioner(client, container, org)
    files, entries = five_documents()
    created = await submitted(client, headers, files=files, entries=entries)
    first = created["documents"][0]["id"]

    submission = await client.get(
        f"/api/credentials/submissions/{created['reference']}", headers=headers
    )
    assert submission.status_code == 200, submission.text
    assert submission.json()["status"] == "submitted"
    assert len(submission.json()["documents"]) == 5

    document = await client.get(f"/api/credentials/documents/{first}", headers=headers)
    body = document.json()
    assert body["status"] == "submitted"
    assert body["content_type"] == "application/pdf"
    assert body["sha256"] == hashlib.sha256(files[0][1]).hexdigest()
    assert body["filename"] == "medical_license.pdf"
    assert body["days_to_expiry"] == 700

    content = await client.get(f"/api/credentials/documents/{first}/content", headers=headers)
    assert content.status_code == 200
    assert content.content == files[0][1]
    assert content.headers["x-content-type-options"] == "nosniff"
    assert content.headers["content-type"] == "application/pdf"
    assert 'filename="medical_license.pdf"' in content.headers["content-disposition"]

    mine = await client.get("/api/credentials/mine", headers=headers)
    assert [d["status"] for d in mine.json()] == ["submitted"] * 5
    cv = next(d for d in mine.json() if d["category"] == "curriculum_vitae")
    assert cv["expires_on"] is None
    assert cv["days_to_expiry"] is None


async def test_key_rotation_rewraps_credential_documents(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    _, headers = await practitioner(client, container, org)
    files = [pdf_file("license.pdf", 5)]
    created = await submitted(client, headers, files=files, entries=[metadata("medical_license")])
    rotation = await rotate_keys(container)
    assert rotation.rewrapped >= 1
    assert rotation.remaining == 0
    document_id = created["documents"][0]["id"]
    content = await client.get(f"/api/credentials/documents/{document_id}/content", headers=headers)
    assert content.content == files[0][1]
