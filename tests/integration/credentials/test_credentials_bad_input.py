"""Bad submissions: a clear 4xx naming the file and the reason, and nothing stored."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from tests.factories import create_org, problem, signed_in
from tests.integration.credentials.support import (
    WRONG_DEA,
    count_rows,
    five_documents,
    form,
    metadata,
    pdf_file,
    practitioner,
    stored_files,
    submit,
)
from tests.unit.filecheck import corpus

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role
from clinvault.models.identity import Organization

NOTHING = {"credential_submissions": 0, "credential_documents": 0, "encrypted_objects": 0}


async def _nothing_stored(container: Container, org: Organization) -> None:
    assert await count_rows(container) == NOTHING
    assert stored_files(container, org) == []


async def _rejected_file(
    client: httpx.AsyncClient, headers: dict[str, str], spec: Any, entry: dict[str, Any]
) -> list[dict[str, Any]]:
    response = await submit(client, headers, files=[spec], entries=[entry])
    body = problem(response, 422, "credential_files_rejected")
    assert body["errors"][0]["file"] == 0
    return [p["code"] for p in body["errors"][0]["problems"]]


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"category": "dea_registration", "document_number": WRONG_DEA}, "dea_number_invalid"),
        ({"issued_on": "2025-05-01", "expires_on": "2025-04-01"}, "expiry_before_issue"),
        ({"expires_on": None}, "expiry_required"),
        ({"sha256": "0" * 64}, "checksum_mismatch"),
        ({"category": "astrology_degree"}, "category_unknown"),
        ({"document_number": None}, "document_number_required"),
        ({"issued_on": "not a date"}, "metadata_invalid"),
    ],
)
async def test_bad_metadata_is_named_per_file(
    client: httpx.AsyncClient, container: Container, overrides: dict[str, Any], code: str
) -> None:
    org = await create_org(container)
    _, headers = await practitioner(client, container, org)
    category = overrides.pop("category", "medical_license")
    codes = await _rejected_file(client, headers, pdf_file(), metadata(category, **overrides))
    assert code in codes
    await _nothing_stored(container, org)


@pytest.mark.parametrize(
    ("category", "name", "data", "code"),
    [
        ("medical_license", "license.pdf", corpus.exe_renamed(), "type_mismatch"),
        ("medical_license", "license.pdf", corpus.html_page(), "type_mismatch"),
        ("medical_license", "license.pdf", corpus.truncated_pdf(), "pdf_repaired"),
        ("medical_license", "license.pdf", corpus.encrypted_pdf(), "pdf_encrypted"),
        (
            "medical_license",
            "license.pdf",
            corpus.pdf_with_javascript_in_object_stream(),
            "pdf_active_content",
        ),
        ("medical_license", "license.pdf", corpus.pdf_with_zip_appended(), "trailing_data"),
        ("medical_license", "license.pdf", b"", "empty_file"),
        ("photo_id", "badge.jpg", corpus.jpeg_followed_by_html(), "trailing_data"),
        ("photo_id", "badge.png", corpus.png_decompression_bomb(), "image_too_large"),
        ("curriculum_vitae", "cv.docx", corpus.docx_zip_bomb(), "zip_bomb"),
        ("curriculum_vitae", "cv.docx", corpus.docx_with_macro(), "docx_macro"),
        (
            "curriculum_vitae",
            "cv.docx",
            corpus.docx_with_external_relationship(),
            "docx_external_relationship",
        ),
    ],
    ids=[
        "exe-renamed-pdf",
        "html-renamed-pdf",
        "truncated-pdf",
        "encrypted-pdf",
        "javascript-in-object-stream",
        "zip-appended",
        "empty",
        "jpeg-then-html",
        "png-decompression-bomb",
        "docx-zip-bomb",
        "docx-macro",
        "docx-external-relationship",
    ],
)
async def test_hostile_files_are_rejected(
    client: httpx.AsyncClient,
    container: Container,
    category: str,
    name: str,
    data: bytes,
    code: str,
) -> None:
    org = await create_org(container)
    if category == "photo_id":
        _, admin = await signed_in(client, container, org, roles=[Role.ORG_ADMIN])
        created = await client.post(
            "/api/credentials/categories",
            json={"code": "photo_id", "label": "Photo ID", "allowed_kinds": ["jpeg", "png"]},
            headers=admin,
        )
        assert created.status_code == 201, created.text
    _, headers = await practitioner(client, container, org)
    entry = metadata(category)
    response = await submit(
        client, headers, files=[(name, data, "application/octet-stream")], entries=[entry]
    )
    body = problem(response, 422, "credential_files_rejected")
    (error,) = body["errors"]
    assert error["file"] == 0
    assert error["filename"] == name
    problems = error["problems"]
    assert code in [p["code"] for p in problems], problems
    assert all(p["detail"] for p in problems)
    await _nothing_stored(container, org)


@pytest.mark.parametrize(
    "hostile_name",
    [corpus.PATH_TRAVERSAL_NAME, corpus.WINDOWS_TRAVERSAL_NAME, corpus.LONG_NAME],
    ids=["path-traversal", "windows-traversal", "300-byte-name"],
)
async def test_hostile_filenames_are_sanitized_and_never_reach_the_storage_key(
    client: httpx.AsyncClient, container: Container, hostile_name: str
) -> None:
    org = await create_org(container)
    _, headers = await practitioner(client, container, org)
    created = await submit(
        client, headers, files=[pdf_file(hostile_name)], entries=[metadata("medical_license")]
    )
    assert created.status_code == 201, created.text
    document_id = created.json()["documents"][0]["id"]
    document = await client.get(f"/api/credentials/documents/{document_id}", headers=headers)
    assert document.status_code == 200, document.text
    shown = document.json()["filename"]
    assert "/" not in shown
    assert "\\" not in shown
    assert not shown.startswith(".")
    assert len(shown.encode()) <= 120
    assert shown.endswith(".pdf")
    stored = stored_files(container, org)
    assert len(stored) == 1
    key = str(stored[0]).split("/credentials/", 1)[1]
    assert all(part not in key for part in ("etc", "cron", "Windows", "aaaa", ".pdf"))


async def test_one_invalid_file_among_valid_ones_stores_nothing(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    _, headers = await practitioner(client, container, org)
    files, entries = five_documents()
    files[2] = (corpus.RTL_OVERRIDE_NAME, corpus.pdf_with_zip_appended(), "application/pdf")
    response = await submit(client, headers, files=files, entries=entries)
    body = problem(response, 422, "credential_files_rejected")
    assert [error["file"] for error in body["errors"]] == [2]
    assert "\u202e" not in body["errors"][0]["filename"]
    await _nothing_stored(container, org)


async def test_a_body_over_the_limit_is_cut_off_with_413(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    _, headers = await practitioner(client, container, org)
    limit = container.settings.credentials.max_file_bytes
    big = ("big.pdf", b"%PDF-1.7\n" + b"0" * (limit + 10), "application/pdf")
    response = await submit(client, headers, files=[big], entries=[metadata("medical_license")])
    body = problem(response, 413, "upload_too_large")
    assert "File 0" in body["detail"]
    await _nothing_stored(container, org)

    total = container.settings.credentials.max_submission_bytes
    size = limit - 1024
    parts = [("p.pdf", b"0" * size, "application/pdf")] * (total // size + 1)

    request = httpx.Request(
        "POST", "http://x", **form(parts, [metadata("medical_license")] * len(parts))
    )

    async def chunks() -> Any:
        for chunk in request.stream:  # type: ignore[union-attr]
            yield chunk

    streamed = await client.post(
        "/api/credentials/submissions",
        headers={**headers, "content-type": request.headers["content-type"]},
        content=chunks(),
    )
    assert streamed.status_code == 413, streamed.text
    await _nothing_stored(container, org)


async def test_ten_thousand_parts_are_refused_fast(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    _, headers = await practitioner(client, container, org)
    boundary = "x" * 20
    part = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
        'filename="a.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF\r\n'
    )
    body = (part * 10_000 + f"--{boundary}--\r\n").encode()
    started = time.monotonic()
    response = await client.post(
        "/api/credentials/submissions",
        headers={**headers, "content-type": f"multipart/form-data; boundary={boundary}"},
        content=body,
    )
    assert time.monotonic() - started < 5
    problem(response, 413, "upload_too_many_parts")
    await _nothing_stored(container, org)


async def test_structural_mistakes_are_4xx(client: httpx.AsyncClient, container: Container) -> None:
    org = await create_org(container)
    _, headers = await practitioner(client, container, org)
    one = [pdf_file()]
    problem(
        await submit(client, headers, files=one, entries="not json"),
        422,
        "credential_metadata_invalid",
    )
    problem(
        await submit(client, headers, files=one, entries=[metadata("medical_license")] * 2),
        422,
        "credential_metadata_invalid",
    )
    problem(
        await client.post("/api/credentials/submissions", headers=headers, json={"files": []}),
        422,
        "credential_metadata_invalid",
    )
    unreadable = await client.post(
        "/api/credentials/submissions",
        headers={**headers, "content-type": "text/plain"},
        content=b"license.pdf",
    )
    assert "application/json" in problem(unreadable, 400, "upload_malformed")["detail"]
    await _nothing_stored(container, org)


async def test_who_may_submit(client: httpx.AsyncClient, container: Container) -> None:
    org = await create_org(container)
    _, no_npi = await practitioner(client, container, org, npi=None)
    body = problem(await submit(client, no_npi), 422, "practitioner_profile_required")
    assert "NPI" in body["detail"]
    _, patient = await signed_in(client, container, org, roles=[Role.PATIENT])
    problem(await submit(client, patient), 403, "permission_denied")
    _, clerk = await signed_in(client, container, org, roles=[Role.CLERK])
    problem(await submit(client, clerk), 403, "permission_denied")
    bad_npi = await client.put(
        "/api/credentials/profile", json={"npi": "1234567890"}, headers=no_npi
    )
    problem(bad_npi, 422, "npi_invalid")
    await _nothing_stored(container, org)
