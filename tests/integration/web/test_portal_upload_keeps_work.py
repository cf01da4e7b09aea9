"""The credential upload form never loses work: held files, typed values, errors by field."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from html import unescape

import httpx
import sqlalchemy as sa
from fastapi import FastAPI
from portal_helpers import form_token, sign_in
from tests.factories import create_org
from tests.integration.credentials.support import count_rows, practitioner, stored_files
from tests.unit.filecheck.corpus import html_page, valid_pdf

from clinvault.bootstrap import Container
from clinvault.credentials.held.service import purge_expired_held_uploads
from clinvault.models.held_uploads import HeldUpload
from clinvault.models.identity import Organization
from clinvault.timeutil import utcnow

UPLOAD = "/credentials/upload"
TODAY = date.today()
DAY = timedelta(days=1)
NO_FILE = ("file_0", ("", b"", "application/octet-stream"))


def row(position: int, category: str = "medical_license", **overrides: str) -> dict[str, str]:
    fields = {
        "category": category,
        "issuing_authority": "State Medical Board",
        "issued_on": (TODAY - 400 * DAY).isoformat(),
        "expires_on": "" if category == "curriculum_vitae" else (TODAY + 700 * DAY).isoformat(),
        "document_number": "" if category == "curriculum_vitae" else "MD-448812",
    }
    fields.update(overrides)
    return {f"{name}_{position}": value for name, value in fields.items()}


def pdf(position: int, name: str) -> tuple[str, tuple[str, bytes, str]]:
    return (f"file_{position}", (name, valid_pdf(pad_to=3000 + position), "application/pdf"))


async def post(
    portal: httpx.AsyncClient,
    fields: dict[str, str],
    files: list[tuple[str, tuple[str, bytes, str]]],
    *,
    rows: int = 1,
) -> httpx.Response:
    page = await portal.get(UPLOAD, params={"rows": rows})
    assert page.status_code == 200, page.text
    token = form_token(page.text, UPLOAD)
    # A browser sends an empty file part for a file input left empty.
    files = files or [NO_FILE]
    return await portal.post(UPLOAD, data={"csrf_token": token, **fields}, files=files)


def field_errors(html: str) -> dict[str, str]:
    """Each visible field message, by the id of its field."""
    found = re.findall(r'<p class="field__error" id="([a-z_]+_\d+)-error"[^>]*>([^<]+)</p>', html)
    return {name: unescape(text) for name, text in found}


def held_id(html: str, position: int) -> str:
    match = re.search(rf'name="held_{position}" value="([0-9a-f-]{{36}})"', html)
    assert match, f"no kept file in row {position}"
    return match.group(1)


def input_tag(html: str, name: str) -> str:
    match = re.search(rf'<(?:input|select)[^>]*\bname="{name}"[^>]*>', html)
    assert match, name
    return match.group(0)


@asynccontextmanager
async def browser_of(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("198.51.100.9", 4445))
    async with httpx.AsyncClient(
        transport=transport, base_url="https://testserver", follow_redirects=False
    ) as http:
        yield http


async def doctor(
    portal: httpx.AsyncClient, client: httpx.AsyncClient, container: Container, org: Organization
) -> None:
    user, _ = await practitioner(client, container, org)
    assert (await sign_in(portal, user.email)).status_code == 303


async def held_count(container: Container) -> int:
    async with container.db.sessions() as session:
        return int(await session.scalar(sa.select(sa.func.count()).select_from(HeldUpload)) or 0)


def held_objects(container: Container, org: Organization) -> list[str]:
    root = container.settings.local_path(container.settings.storage_url)
    folder = root / "orgs" / str(org.id) / "held-uploads"
    return sorted(str(p) for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


async def test_a_refused_row_keeps_the_other_files_and_every_value(
    portal: httpx.AsyncClient, client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    await doctor(portal, client, container, org)
    fields = {
        **row(0, issuing_authority="Ohio Board of Medicine"),
        **row(1, "board_certification", issued_on=(TODAY + 3 * DAY).isoformat()),
        **row(2, "curriculum_vitae", issuing_authority="Self"),
    }
    files = [pdf(0, "license.pdf"), pdf(1, "board.pdf"), pdf(2, "cv.pdf")]
    response = await post(portal, fields, files, rows=3)
    assert response.status_code == 422
    html = response.text
    # Every typed value is back, the problem is next to its own field, in words.
    for name, value in fields.items():
        assert f'value="{value}"' in html or name.startswith("category"), name
    assert field_errors(html) == {
        "issued_on_1": "Issue date is in the future: enter the date printed on the document."
    }
    issued = input_tag(html, "issued_on_1")
    assert 'aria-invalid="true"' in issued
    assert 'aria-describedby="issued_on_1-error"' in issued
    # All three files were fine: each is kept, so that none has to be chosen again.
    for name in ("license.pdf", "board.pdf", "cv.pdf"):
        assert f"File kept: <strong>{name}</strong>" in html
    assert await held_count(container) == 3
    assert len(held_objects(container, org)) == 3
    assert stored_files(container, org) == []

    # Only the date is corrected; no file is sent again.
    again = {
        **fields,
        "issued_on_1": (TODAY - 30 * DAY).isoformat(),
        **{f"held_{n}": held_id(html, n) for n in range(3)},
    }
    token = form_token(html, UPLOAD)
    done = await portal.post(UPLOAD, data={"csrf_token": token, **again}, files=[NO_FILE])
    assert done.status_code == 303, done.text
    counts = await count_rows(container)
    assert counts["credential_documents"] == 3
    assert len(stored_files(container, org)) == 3
    # The held files are used up: rows and objects gone.
    assert await held_count(container) == 0
    assert held_objects(container, org) == []


async def test_a_refused_file_is_not_kept_and_only_its_row_needs_a_new_one(
    portal: httpx.AsyncClient, client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    await doctor(portal, client, container, org)
    fields = {**row(0), **row(1, "board_certification")}
    files = [pdf(0, "license.pdf"), ("file_1", ("board.pdf", html_page(), "application/pdf"))]
    response = await post(portal, fields, files, rows=2)
    assert response.status_code == 422
    html = response.text
    errors = field_errors(html)
    assert set(errors) == {"file_1"}
    assert "File kept: <strong>license.pdf</strong>" in html
    assert "board.pdf</strong>" not in html
    assert 'name="held_1"' not in html

    token = form_token(html, UPLOAD)
    done = await portal.post(
        UPLOAD,
        data={"csrf_token": token, **fields, "held_0": held_id(html, 0)},
        files=[pdf(1, "board-scan.pdf")],
    )
    assert done.status_code == 303, done.text
    assert (await count_rows(container))["credential_documents"] == 2
    assert await held_count(container) == 0


async def test_held_files_belong_to_their_user_and_organization(
    app: FastAPI, portal: httpx.AsyncClient, client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    other_org = await create_org(container)
    await doctor(portal, client, container, org)
    fields = {**row(0), **row(1, expires_on="")}
    response = await post(portal, fields, [pdf(0, "license.pdf"), pdf(1, "second.pdf")], rows=2)
    assert response.status_code == 422
    stolen = held_id(response.text, 0)

    for where in (org, other_org):
        async with browser_of(app) as thief:
            await doctor(thief, client, container, where)
            attempt = await post(thief, {**row(0), "held_0": stolen}, [], rows=1)
            assert attempt.status_code == 422
            assert field_errors(attempt.text) == {
                "file_0": "The file kept from your last try is no longer available: "
                "choose it again."
            }
            assert stolen not in attempt.text
            assert "license.pdf" not in attempt.text
    assert (await count_rows(container))["credential_documents"] == 0
    assert await held_count(container) == 2

    # Its owner still has it.
    token = form_token(response.text, UPLOAD)
    done = await portal.post(
        UPLOAD,
        data={"csrf_token": token, **row(0), "held_0": stolen},
        files=[NO_FILE],
    )
    assert done.status_code == 303, done.text


async def test_held_files_expire_and_are_purged(
    portal: httpx.AsyncClient, client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    await doctor(portal, client, container, org)
    response = await post(
        portal, {**row(0), **row(1, expires_on="")}, [pdf(0, "a.pdf"), pdf(1, "b.pdf")], rows=2
    )
    assert response.status_code == 422
    kept = held_id(response.text, 0)
    assert await purge_expired_held_uploads(container) == 0
    async with container.db.unit_of_work() as session:
        await session.execute(
            sa.update(HeldUpload).values(expires_at=utcnow() - timedelta(minutes=1))
        )

    late = await post(portal, {**row(0), "held_0": kept}, [], rows=1)
    assert late.status_code == 422
    assert "no longer available" in field_errors(late.text)["file_0"]
    assert await purge_expired_held_uploads(container) == 2
    assert await held_count(container) == 0
    assert held_objects(container, org) == []
    assert (await count_rows(container))["encrypted_objects"] == 0


async def test_all_problems_at_once_each_next_to_its_field_and_required_marked(
    portal: httpx.AsyncClient, client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    await doctor(portal, client, container, org)
    page = await portal.get(UPLOAD)
    for name in ("category_0", "issuing_authority_0", "issued_on_0", "expires_on_0", "file_0"):
        tag = input_tag(page.text, name)
        assert " required" in tag, name
        assert 'aria-required="true"' in tag, name
    assert 'accept=".pdf,application/pdf"' in input_tag(page.text, "file_0")
    assert 'data-max-file-bytes="20971520"' in page.text

    fields = {
        **row(0, issued_on="2024-05-01", expires_on="2023-01-01", document_number=""),
        **row(1, "curriculum_vitae", issuing_authority="", issued_on="31/12/2020"),
    }
    response = await post(portal, fields, [pdf(0, "license.pdf")], rows=2)
    assert response.status_code == 422
    errors = field_errors(response.text)
    assert errors == {
        "expires_on_0": "Expiry date is before the issue date: check both dates.",
        "document_number_0": "Enter the document number.",
        "file_1": "Choose the file of this document.",
        "issuing_authority_1": "Enter the issuing authority.",
        "issued_on_1": "Enter the issue date as a date, for example 2024-03-31.",
    }
    for name in errors:
        assert f'aria-describedby="{name}-error"' in input_tag(response.text, name) or (
            f"{name}-error" in input_tag(response.text, name)
        )
    # The CV needs no number and no expiry date: neither is marked required.
    assert " required" not in input_tag(response.text, "document_number_1")
    assert " required" not in input_tag(response.text, "expires_on_1")
    assert "5 problems to correct" in response.text
    assert 'value="31/12/2020"' in response.text


async def test_an_expired_document_needs_the_confirmation(
    portal: httpx.AsyncClient, client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    await doctor(portal, client, container, org)
    expired = row(0, expires_on=(TODAY - 10 * DAY).isoformat())
    response = await post(portal, expired, [pdf(0, "old.pdf")])
    assert response.status_code == 422
    assert field_errors(response.text)["expires_on_0"].startswith("This document expired on")
    assert re.search(r"<p [^>]*data-confirm-expired>", response.text)  # shown, not hidden

    token = form_token(response.text, UPLOAD)
    done = await portal.post(
        UPLOAD,
        data={
            "csrf_token": token,
            **expired,
            "confirm_expired_0": "1",
            "held_0": held_id(response.text, 0),
        },
        files=[NO_FILE],
    )
    assert done.status_code == 303, done.text


async def test_a_file_over_the_limit_comes_back_as_the_form_with_everything_typed(
    portal: httpx.AsyncClient, client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    await doctor(portal, client, container, org)
    limit = container.settings.credentials.max_file_bytes
    fields = {**row(0, issuing_authority="Kept Authority"), **row(1, document_number="BIG-1")}
    big = ("file_1", ("scan.pdf", b"%PDF-1.7\n" + b"0" * limit, "application/pdf"))
    response = await post(portal, fields, [pdf(0, "license.pdf"), big], rows=2)
    assert response.status_code == 422
    assert "Error 413" not in response.text
    assert 'value="Kept Authority"' in response.text
    assert 'value="BIG-1"' in response.text
    assert field_errors(response.text)["file_1"].startswith(
        "scan.pdf is larger than the 20 MB limit"
    )
    assert "File kept: <strong>license.pdf</strong>" in response.text


async def test_a_body_over_the_total_limit_answers_with_the_form_and_the_limit(
    portal: httpx.AsyncClient, client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    await doctor(portal, client, container, org)
    page = await portal.get(UPLOAD)
    token = form_token(page.text, UPLOAD)
    declared = container.settings.credentials.max_submission_bytes + 2 * 1024 * 1024

    async def body() -> AsyncIterator[bytes]:
        yield b"--x\r\n"  # the server answers before reading any of it

    response = await portal.post(
        UPLOAD,
        content=body(),
        headers={
            "content-type": "multipart/form-data; boundary=x",
            "content-length": str(declared),
            "x-csrf-token": token,
        },
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "larger than the 100 MB limit of one submission" in html
    assert 'aria-label="Main"' in html  # the menu is there
    assert 'action="/credentials/upload"' in html  # and so is the form


async def test_adding_a_row_without_javascript_keeps_values_and_files(
    portal: httpx.AsyncClient, client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    await doctor(portal, client, container, org)
    typed = row(0, issuing_authority="Half Typed Board", expires_on="")
    response = await post(portal, {**typed, "add_row": "1"}, [pdf(0, "license.pdf")])
    assert response.status_code == 200
    html = response.text
    assert html.count("data-upload-row>") == 2
    assert 'value="Half Typed Board"' in html
    assert "File kept: <strong>license.pdf</strong>" in html
    assert field_errors(html) == {}  # an unfinished row is not an error yet

    token = form_token(html, UPLOAD)
    done = await portal.post(
        UPLOAD,
        data={
            "csrf_token": token,
            **typed,
            "expires_on_0": (TODAY + 300 * DAY).isoformat(),
            "held_0": held_id(html, 0),
            **row(1, "curriculum_vitae"),
        },
        files=[pdf(1, "cv.pdf")],
    )
    assert done.status_code == 303, done.text
    assert (await count_rows(container))["credential_documents"] == 2
