"""The credential-upload design's JSON request: same intake, storage, email and review.

A practitioner posts the design's own shape (base64 `content`, camelCase
metadata) to POST /api/credentials/submissions with Content-Type
application/json. It goes through the multipart path's checks, encrypted
storage, reference, confirmation email and review workflow; every refusal
stores nothing, not even a spool file.
"""

from __future__ import annotations

import base64
import io
import json
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pikepdf
import pytest
import sqlalchemy as sa
from dbos import DBOS
from pikepdf import Dictionary, Name
from tests.factories import create_org, mail_text, problem, signed_in, wait_for_mail
from tests.integration.credentials.support import count_rows, practitioner, stored_files

from clinvault.bootstrap import Container
from clinvault.credentials import workflows
from clinvault.credentials.json_upload import json_body_limit
from clinvault.identity.principal import Role
from clinvault.ids import reference_is_valid
from clinvault.models.credentials import CredentialDocument, CredentialSubmission
from clinvault.models.identity import Organization, User
from clinvault.storage import spool
from clinvault.storage.spool import spool_root

URL = "/api/credentials/submissions"
NOTHING = {"credential_submissions": 0, "credential_documents": 0, "encrypted_objects": 0}


def license_pdf(text: str = "Medical license") -> bytes:
    """A real one-page PDF with a line of text, as a scanner or a browser would send it."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(612, 792))
    page = pdf.pages[0]
    page.Contents = pdf.make_stream(f"BT /F1 14 Tf 72 720 Td ({text}) Tj ET".encode())
    page.Resources = Dictionary(
        Font=Dictionary(F1=Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica))
    )
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def design_document(user: User | None, data: bytes, **overrides: Any) -> dict[str, Any]:
    """The credential-upload design's sample request, field for field."""
    today = date.today()
    document: dict[str, Any] = {
        "providerId": str(user.id) if user else None,
        "providerEmail": user.email if user else None,
        "providerName": "Dr. Jane Smith",
        "name": "medical_license.pdf",
        "type": "application/pdf",
        "size": len(data),
        "category": "MEDICAL_LICENSE",
        "content": base64.b64encode(data).decode("ascii"),
        "metadata": {
            "documentNumber": "MD-448812",
            "issueDate": (today - timedelta(days=400)).isoformat(),
            "expiryDate": (today + timedelta(days=700)).isoformat(),
            "issuedBy": "State Medical Board",
        },
    }
    document.update(overrides)
    return {key: value for key, value in document.items() if value is not None}


async def post_json(
    client: httpx.AsyncClient, headers: dict[str, str], body: Any
) -> httpx.Response:
    return await client.post(
        URL,
        headers={**headers, "content-type": "application/json"},
        content=json.dumps(body).encode(),
    )


def spool_entries(container: Container) -> list[Path]:
    root = spool_root(container.settings)
    return sorted(root.iterdir()) if root.exists() else []


async def nothing_stored(container: Container, org: Organization) -> None:
    assert await count_rows(container) == NOTHING
    assert stored_files(container, org) == []
    assert spool_entries(container) == []


async def _submission(container: Container, reference: str) -> CredentialSubmission:
    async with container.db.sessions() as session:
        found = await session.scalar(
            sa.select(CredentialSubmission).where(CredentialSubmission.reference == reference)
        )
    assert found is not None
    return found


async def _documents(container: Container, submission_id: uuid.UUID) -> list[CredentialDocument]:
    async with container.db.sessions() as session:
        rows = await session.scalars(
            sa.select(CredentialDocument)
            .where(CredentialDocument.submission_id == submission_id)
            .order_by(CredentialDocument.id)
        )
        return list(rows)


async def test_the_design_sample_request_is_stored_encrypted_confirmed_and_reviewed(
    client: httpx.AsyncClient, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = await create_org(container)
    reviewer, _ = await signed_in(client, container, org, roles=[Role.CREDENTIALING_REVIEWER])
    user, headers = await practitioner(client, container, org)
    data = license_pdf()
    spooled: list[bytes] = []
    finish = spool.SpoolWriter.finish

    def watched(writer: spool.SpoolWriter) -> spool.SpooledFile:
        result = finish(writer)
        spooled.append(writer.path.read_bytes())
        return result

    monkeypatch.setattr(spool.SpoolWriter, "finish", watched)

    response = await post_json(client, headers, design_document(user, data))

    assert response.status_code == 201, response.text
    created = response.json()
    assert reference_is_valid(created["reference"])
    assert [d["category"] for d in created["documents"]] == ["medical_license"]
    assert created["documents"][0]["status"] == "submitted"
    # The spool held ciphertext only.
    assert len(spooled) == 1
    assert b"%PDF" not in spooled[0]
    assert b"Medical license" not in spooled[0]
    assert spool_entries(container) == []

    document = await client.get(
        f"/api/credentials/documents/{created['documents'][0]['id']}", headers=headers
    )
    read = document.json()
    assert read["issuing_authority"] == "State Medical Board"
    assert read["document_number"] == "MD-448812"
    assert read["filename"] == "medical_license.pdf"
    assert read["content_type"] == "application/pdf"
    assert read["size"] == len(data)
    assert read["days_to_expiry"] == 700
    assert read["practitioner_id"] == str(user.id)
    content = await client.get(
        f"/api/credentials/documents/{created['documents'][0]['id']}/content", headers=headers
    )
    assert content.content == data

    on_disk = stored_files(container, org)
    assert len(on_disk) == 1
    assert on_disk[0].parent.parent.name == str(user.id)
    assert b"%PDF" not in on_disk[0].read_bytes()
    assert b"Medical license" not in on_disk[0].read_bytes()

    submission = await _submission(container, created["reference"])
    assert submission.practitioner_id == user.id
    workflow_id = workflows.review_workflow_id(submission.id)
    assert await DBOS.list_workflows_async(workflow_ids=[workflow_id], load_input=False)
    confirmation = await wait_for_mail(container, user.email, created["reference"])
    assert "Medical license" in mail_text(confirmation)
    assert data[:200] not in confirmation.as_bytes()
    await wait_for_mail(container, reviewer.email, created["reference"])


async def test_a_list_of_two_is_one_submission_with_two_documents(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    user, headers = await practitioner(client, container, org)
    first, second = license_pdf("Medical license"), license_pdf("Board certification")
    board = design_document(
        user, second, name="board.pdf", category="board_certification", providerId=None
    )

    response = await post_json(client, headers, [design_document(user, first), board])

    assert response.status_code == 201, response.text
    created = response.json()
    assert [d["category"] for d in created["documents"]] == [
        "medical_license",
        "board_certification",
    ]
    assert await count_rows(container) == {
        "credential_submissions": 1,
        "credential_documents": 2,
        "encrypted_objects": 2,
    }
    submission = await _submission(container, created["reference"])
    assert sorted(d.filename for d in await _documents(container, submission.id)) == [
        "board.pdf",
        "medical_license.pdf",
    ]
    await wait_for_mail(container, user.email, created["reference"])


async def test_lowercase_category_and_no_provider_fields_are_accepted(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    _, headers = await practitioner(client, container, org)
    body = design_document(None, license_pdf(), category="medical_license")
    assert "providerId" not in body

    response = await post_json(client, headers, body)

    assert response.status_code == 201, response.text
    assert response.json()["documents"][0]["category"] == "medical_license"


@pytest.mark.parametrize(
    ("overrides", "code", "named"),
    [
        ({"size": 1234}, "size_mismatch", "declared 1234 bytes"),
        ({"type": "image/png"}, "type_mismatch", "declared 'image/png'"),
    ],
)
async def test_a_declared_size_or_type_the_bytes_contradict_is_refused(
    client: httpx.AsyncClient,
    container: Container,
    overrides: dict[str, Any],
    code: str,
    named: str,
) -> None:
    org = await create_org(container)
    user, headers = await practitioner(client, container, org)
    data = license_pdf()

    response = await post_json(client, headers, [design_document(user, data, **overrides)])

    body = problem(response, 422, "credential_files_rejected")
    problems = body["errors"][0]["problems"]
    assert [p["code"] for p in problems] == [code]
    assert named in problems[0]["detail"]
    if code == "size_mismatch":
        assert f"decoded content is {len(data)} bytes" in problems[0]["detail"]
    else:
        assert "application/pdf" in problems[0]["detail"]
    await nothing_stored(container, org)


@pytest.mark.parametrize(
    ("content", "field", "says"),
    [
        ("JVBERi0xLjQK*AAA", "[1].content", "'*' at character 13"),
        ("JVBERi0xLjQ", "[1].content", "not a multiple of 4"),
        ("JVBE=i0xLjQK", "[1].content", "padding"),
        ("data:application/pdf;base64,JVBERi0=", "[1].content", "':' at character 5"),
    ],
)
async def test_bad_base64_is_422_naming_the_field(
    client: httpx.AsyncClient, container: Container, content: str, field: str, says: str
) -> None:
    org = await create_org(container)
    user, headers = await practitioner(client, container, org)
    good = design_document(user, license_pdf())
    bad = design_document(user, license_pdf(), content=content)

    response = await post_json(client, headers, [good, bad])

    body = problem(response, 422, "credential_content_invalid")
    assert body["errors"][0]["field"] == field
    assert field in body["detail"]
    assert says in body["detail"]
    await nothing_stored(container, org)


@pytest.mark.parametrize("field", ["providerId", "providerEmail"])
async def test_a_body_naming_another_provider_is_refused(
    client: httpx.AsyncClient, container: Container, field: str
) -> None:
    org = await create_org(container)
    other, _ = await practitioner(client, container, org)
    user, headers = await practitioner(client, container, org)
    claim = str(other.id) if field == "providerId" else other.email
    document = design_document(user, license_pdf(), **{field: claim})

    response = await post_json(client, headers, document)

    body = problem(response, 403, "credential_provider_mismatch")
    assert field in body["detail"]
    assert other.email not in body["detail"]
    await nothing_stored(container, org)


async def test_a_document_over_the_file_limit_is_cut_off_with_413(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    user, headers = await practitioner(client, container, org)
    limit = container.settings.credentials.max_file_bytes
    big = b"%PDF-1.7\n" + b"0" * (limit + 10)
    body = json.dumps(design_document(user, big)).encode()

    async def chunks() -> Any:
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    response = await client.post(
        URL, headers={**headers, "content-type": "application/json"}, content=chunks()
    )

    problem_body = problem(response, 413, "upload_too_large")
    assert "content decodes to more than 20 MiB" in problem_body["detail"]
    await nothing_stored(container, org)


async def test_a_body_over_the_json_limit_is_413_before_it_is_read(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    _, headers = await practitioner(client, container, org)
    limit = json_body_limit(container.settings.credentials.max_submission_bytes)

    response = await client.post(
        URL,
        headers={
            **headers,
            "content-type": "application/json",
            "content-length": str(limit + 1),
        },
        content=b"[",
    )

    problem(response, 413, "body_too_large")
    await nothing_stored(container, org)


async def test_metadata_beyond_its_room_is_413(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    user, headers = await practitioner(client, container, org)
    document = design_document(user, license_pdf(), providerName="x" * 300_000)

    response = await post_json(client, headers, document)

    problem(response, 413, "upload_too_large")
    await nothing_stored(container, org)


async def test_design_field_mistakes_are_named_and_nothing_is_stored(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    user, headers = await practitioner(client, container, org)
    document = design_document(user, license_pdf())
    document["metadata"] = {**document["metadata"], "issueDate": "yesterday"}
    document["metadata"].pop("issuedBy")

    response = await post_json(client, headers, document)

    body = problem(response, 422, "credential_files_rejected")
    details = " ".join(p["detail"] for p in body["errors"][0]["problems"])
    assert "metadata.issueDate" in details
    assert "metadata.issuedBy" in details
    await nothing_stored(container, org)

    missing = await post_json(client, headers, {**document, "content": None})
    assert problem(missing, 422, "credential_metadata_invalid")["errors"][0]["field"] == ("content")
    malformed = await client.post(
        URL, headers={**headers, "content-type": "application/json"}, content=b'{"name": '
    )
    problem(malformed, 400, "body_malformed")
    deep = await client.post(
        URL, headers={**headers, "content-type": "application/json"}, content=b"[" * 100_000
    )
    problem(deep, 400, "json_too_deep")
    await nothing_stored(container, org)


async def test_non_practitioners_are_refused_before_the_body_is_read(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    clerk, clerk_headers = await signed_in(client, container, org, roles=[Role.CLERK])

    response = await post_json(client, clerk_headers, design_document(clerk, license_pdf()))

    assert response.status_code == 403, response.text
    await nothing_stored(container, org)


async def test_openapi_describes_the_json_body(client: httpx.AsyncClient) -> None:
    document = (await client.get("/api/openapi.json")).json()
    body = document["paths"][URL]["post"]["requestBody"]["content"]
    assert set(body) == {"multipart/form-data", "application/json"}
    one, many = body["application/json"]["schema"]["oneOf"]
    assert one["required"] == ["name", "category", "content", "metadata"]
    assert many["items"] == one
    assert set(one["properties"]["metadata"]["properties"]) == {
        "documentNumber",
        "issueDate",
        "expiryDate",
        "issuedBy",
    }


async def test_more_documents_than_allowed_are_413(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    user, headers = await practitioner(client, container, org)
    count = container.settings.credentials.max_files + 1
    documents = [design_document(user, b"tiny file")] * count

    response = await post_json(client, headers, documents)

    problem(response, 413, "upload_too_many_parts")
    await nothing_stored(container, org)
