"""Credential pages of the portal: upload, confirmation, my credentials, review, notifications."""

from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta
from typing import Any

import httpx
from portal_helpers import CSRF, form_token, post_form, sign_in
from tests.factories import create_org, create_user
from tests.integration.credentials.support import (
    FIVE_CATEGORIES,
    VALID_DEA,
    WRONG_DEA,
    count_rows,
    practitioner,
    stored_files,
)
from tests.unit.filecheck.corpus import html_page, valid_pdf, valid_png

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role
from clinvault.models.identity import Organization, User
from clinvault.notifications.service import notify
from clinvault.web import csrf

UPLOAD = "/credentials/upload"
NO_ROWS = {"credential_submissions": 0, "credential_documents": 0, "encrypted_objects": 0}


def row_fields(position: int, category: str, **overrides: str) -> dict[str, str]:
    today = date.today()
    fields = {
        "category": category,
        "issuing_authority": "State Medical Board",
        "issued_on": (today - timedelta(days=400)).isoformat(),
        "expires_on": "" if category == "curriculum_vitae" else (today + 700 * DAY).isoformat(),
        "document_number": VALID_DEA if category == "dea_registration" else "MD-448812",
    }
    fields.update(overrides)
    return {f"{name}_{position}": value for name, value in fields.items()}


DAY = timedelta(days=1)


def pdf(position: int, name: str = "document.pdf") -> tuple[str, tuple[str, bytes, str]]:
    return (f"file_{position}", (name, valid_pdf(pad_to=2000 + position), "application/pdf"))


async def upload(
    portal: httpx.AsyncClient,
    fields: dict[str, str],
    files: list[tuple[str, tuple[str, bytes, str]]],
    *,
    rows: int = 1,
) -> httpx.Response:
    page = await portal.get(UPLOAD, params={"rows": rows})
    assert page.status_code == 200, page.text
    token = form_token(page.text, UPLOAD)
    return await portal.post(UPLOAD, data={"csrf_token": token, **fields}, files=files)


async def doctor_in_portal(
    portal: httpx.AsyncClient, client: httpx.AsyncClient, container: Container, org: Organization
) -> User:
    user, _ = await practitioner(client, container, org)
    signed = await sign_in(portal, user.email)
    assert signed.status_code == 303
    return user


async def upload_five(portal: httpx.AsyncClient) -> str:
    fields: dict[str, str] = {}
    for position, category in enumerate(FIVE_CATEGORIES):
        fields.update(row_fields(position, category))
    files = [pdf(position, f"{category}.pdf") for position, category in enumerate(FIVE_CATEGORIES)]
    response = await upload(portal, fields, files, rows=5)
    assert response.status_code == 303, response.text
    match = re.fullmatch(
        r"/credentials/submissions/([^?/]+)\?notice=submitted", response.headers["location"]
    )
    assert match, response.headers["location"]
    return match.group(1)


def csrf_token_for(portal: httpx.AsyncClient, container: Container, purpose: str) -> str:
    """A valid token of this browser for a form it was never shown (as a forger with the cookie)."""
    return csrf._mac(csrf._key(container), portal.cookies[CSRF], purpose)


def document_links(html: str) -> list[str]:
    return re.findall(r'href="(/credentials/documents/[0-9a-f-]{36})"', html)


async def test_a_doctor_uploads_five_documents_and_sees_the_reference(
    portal: httpx.AsyncClient, client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    await doctor_in_portal(portal, client, container, org)
    home = await portal.get("/")
    assert '<a href="/credentials">My credentials</a>' in home.text
    assert '<a href="/credentials/upload">Upload documents</a>' in home.text
    assert "Review queue" not in home.text

    page = await portal.get(UPLOAD, params={"rows": 5})
    assert page.text.count("data-upload-row>") == 5
    assert '<button type="submit" name="add_row" value="1"' in page.text
    assert 'src="/static/upload.js"' in page.text

    reference = await upload_five(portal)
    confirmation = await portal.get(f"/credentials/submissions/{reference}?notice=submitted")
    assert confirmation.status_code == 200
    assert f"Submission {reference}" in confirmation.text
    assert "Your documents were received" in confirmation.text
    assert "Estimated review by" in confirmation.text
    for label in ("Medical license", "Board certification", "DEA registration", "Curriculum vitae"):
        assert label in confirmation.text
    assert confirmation.text.count("badge--submitted") == 6  # the submission and five documents
    assert len(document_links(confirmation.text)) == 5

    mine = await portal.get("/credentials")
    assert mine.status_code == 200
    assert mine.text.count('data-document="') == 5
    assert "Expires in 700 days" in mine.text
    assert "No expiry" in mine.text  # the CV
    assert "Replace" not in mine.text
    counts = await count_rows(container)
    assert counts["credential_documents"] == 5
    assert len(stored_files(container, org)) == 5


async def test_problems_are_shown_next_to_each_file_values_kept_nothing_stored(
    portal: httpx.AsyncClient, client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    await doctor_in_portal(portal, client, container, org)
    fields = {
        **row_fields(0, "medical_license", issuing_authority="Ohio Board of Medicine"),
        **row_fields(1, "dea_registration", document_number=WRONG_DEA),
        **row_fields(2, "board_certification", expires_on=""),
    }
    files = [
        pdf(0, "license.pdf"),
        ("file_1", ("dea.pdf", html_page(), "application/pdf")),
        pdf(2, "board.pdf"),
    ]
    response = await upload(portal, fields, files, rows=3)
    assert response.status_code == 422
    html = response.text
    assert "Nothing was stored yet" in html
    assert 'value="Ohio Board of Medicine"' in html
    assert f'value="{WRONG_DEA}"' in html
    message = r'<p class="field__error" id="([a-z_]+_\d)-error"[^>]*>([^<]+)<'
    errors = dict(re.findall(message, html))
    assert not any(name.endswith("_0") for name in errors)
    assert "DEA number fails its check digit" in errors["document_number_1"]
    assert "pdf" in errors["file_1"].lower()
    assert "Enter the expiry date" in errors["expires_on_2"]
    assert 'aria-invalid="true"' in html
    # The two good files are kept for the next try; the refused one is not.
    assert "File kept: <strong>license.pdf</strong>" in html
    assert "File kept: <strong>board.pdf</strong>" in html
    assert "dea.pdf</strong>" not in html
    assert await count_rows(container) == {**NO_ROWS, "encrypted_objects": 2}
    assert stored_files(container, org) == []


async def test_a_row_without_a_file_and_an_empty_form_are_refused(
    portal: httpx.AsyncClient, client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    await doctor_in_portal(portal, client, container, org)
    response = await upload(
        portal,
        {**row_fields(0, "medical_license"), **row_fields(1, "board_certification")},
        [pdf(0), ("file_1", ("", b"", "application/octet-stream"))],
        rows=2,
    )
    assert response.status_code == 422
    assert re.search(
        r'id="file_1-error" data-error-for="file_1">Choose the file of this document.<',
        response.text,
    )
    assert re.search(r'id="file_0-error" data-error-for="file_0" hidden>', response.text)

    empty = await upload(
        portal,
        {"category_0": "medical_license", "issued_on_0": "", "issuing_authority_0": ""},
        [("file_0", ("", b"", "application/octet-stream"))],
    )
    assert empty.status_code == 422
    assert "Choose at least one file" in empty.text
    counts = await count_rows(container)
    assert counts["credential_documents"] == counts["credential_submissions"] == 0


async def test_the_upload_form_refuses_a_post_without_a_valid_csrf_token(
    portal: httpx.AsyncClient, client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    await doctor_in_portal(portal, client, container, org)
    await portal.get(UPLOAD)
    fields = row_fields(0, "medical_license")
    missing = await portal.post(UPLOAD, data=fields, files=[pdf(0)])
    assert missing.status_code == 403
    assert "This form could not be verified" in missing.text

    other_form = form_token((await portal.get("/notifications")).text, "/logout")
    wrong_purpose = await portal.post(
        UPLOAD, data={"csrf_token": other_form, **fields}, files=[pdf(0)]
    )
    assert wrong_purpose.status_code == 403

    token = form_token((await portal.get(UPLOAD)).text, UPLOAD)
    cross_site = await portal.post(
        UPLOAD,
        data={"csrf_token": token, **fields},
        files=[pdf(0)],
        headers={"Origin": "https://attacker.example"},
    )
    assert cross_site.status_code == 403
    assert await count_rows(container) == NO_ROWS


async def test_a_practitioner_without_an_npi_enters_it_first(
    portal: httpx.AsyncClient, client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    user, _ = await practitioner(client, container, org, npi=None)
    await sign_in(portal, user.email)
    page = await portal.get(UPLOAD)
    assert "Your practitioner profile" in page.text
    wrong = await post_form(portal, UPLOAD, "/credentials/profile", {"npi": "1234567890"})
    assert wrong.status_code == 422
    assert "check digit" in wrong.text
    assert 'value="1234567890"' in wrong.text
    saved = await post_form(portal, UPLOAD, "/credentials/profile", {"npi": "1234567893"})
    assert saved.status_code == 303
    assert saved.headers["location"] == "/credentials/upload?notice=profile"
    assert "Your NPI is saved" in (await portal.get(saved.headers["location"])).text


async def test_staff_who_are_not_practitioners_cannot_open_the_upload_page(
    portal: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    clerk = await create_user(container, org, roles=[Role.CLERK])
    await sign_in(portal, clerk.email)
    page = await portal.get(UPLOAD)
    assert page.status_code == 403
    assert "submit credentials" in page.text
    assert "Upload documents" not in (await portal.get("/")).text


async def review_setup(
    portal: httpx.AsyncClient, client: httpx.AsyncClient, container: Container
) -> tuple[Organization, User, str, list[str]]:
    org = await create_org(container)
    doctor = await doctor_in_portal(portal, client, container, org)
    reference = await upload_five(portal)
    confirmation = await portal.get(f"/credentials/submissions/{reference}")
    links = document_links(confirmation.text)
    reviewer = await create_user(container, org, roles=[Role.CREDENTIALING_REVIEWER])
    portal.cookies.clear()
    await sign_in(portal, reviewer.email)
    return org, doctor, reference, links


async def test_the_reviewer_verifies_and_rejects_from_the_queue(
    portal: httpx.AsyncClient, client: httpx.AsyncClient, container: Container
) -> None:
    _, doctor, reference, links = await review_setup(portal, client, container)
    home = await portal.get("/")
    assert '<a href="/credentials/review">Review queue</a>' in home.text
    queue = await portal.get("/credentials/review")
    assert queue.status_code == 200
    assert "5 documents, oldest first" in queue.text
    assert document_links(queue.text) == links
    only_dea = await portal.get("/credentials/review", params={"category": "dea_registration"})
    assert len(document_links(only_dea.text)) == 1
    assert "1 document, oldest first" in only_dea.text

    license_page = await portal.get(links[0])
    assert license_page.status_code == 200
    assert "badge--submitted" in license_page.text
    for started in (links[0], links[4]):
        assert (await post_form(portal, started, f"{started}/review", {})).status_code == 303
    license_page = await portal.get(links[0])
    assert "badge--in_review" in license_page.text
    assert f'<iframe class="preview__frame" src="{links[0]}/content"' in license_page.text
    assert "frame-src 'self'" in license_page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in license_page.headers["content-security-policy"]

    content = await portal.get(f"{links[0]}/content")
    assert content.status_code == 200
    assert content.content.startswith(b"%PDF-")
    assert hashlib.sha256(content.content).hexdigest() in license_page.text
    assert content.headers["content-type"] == "application/pdf"
    assert content.headers["content-disposition"].startswith("inline;")
    assert "frame-ancestors 'self'" in content.headers["content-security-policy"]
    assert "script-src" not in content.headers["content-security-policy"]
    assert content.headers["x-frame-options"] == "SAMEORIGIN"
    download = await portal.get(f"{links[0]}/content", params={"download": "true"})
    assert download.headers["content-disposition"].startswith("attachment;")

    action = f"{links[4]}/decision"
    incomplete = await post_form(portal, links[4], action, {"decision": "rejected", "note": ""})
    assert incomplete.status_code == 422
    assert "A rejection needs a reason_code" in incomplete.text
    assert 'id="decision-rejected" name="decision" value="rejected" checked' in incomplete.text

    rejected = await post_form(
        portal,
        links[4],
        action,
        {"decision": "rejected", "reason_code": "illegible", "note": "The policy page is blurred."},
    )
    assert rejected.status_code == 303
    assert rejected.headers["location"] == f"{links[4]}?notice=rejected"
    after = await portal.get(rejected.headers["location"])
    assert "The document is rejected" in after.text
    assert "Illegible: The policy page is blurred." in after.text
    assert "Record decision" not in after.text
    again = await post_form(portal, links[0], f"{links[0]}/decision", {"decision": "verified"})
    assert again.status_code == 303
    twice = await portal.post(
        action,
        data={"decision": "verified", "csrf_token": form_token(incomplete.text, action)},
    )
    assert twice.status_code == 409
    assert "already rejected" in twice.text

    portal.cookies.clear()
    await sign_in(portal, doctor.email)
    mine = await portal.get("/credentials")
    assert "badge--verified" in mine.text
    assert "badge--rejected" in mine.text
    assert f'href="/credentials/replace/{links[4].rsplit("/", 1)[1]}"' in mine.text
    assert "Illegible: The policy page is blurred." in mine.text
    submission = await portal.get(f"/credentials/submissions/{reference}")
    assert "badge--in_review" in submission.text


async def test_a_rejected_document_is_replaced_from_the_portal(
    portal: httpx.AsyncClient, client: httpx.AsyncClient, container: Container
) -> None:
    _, doctor, reference, links = await review_setup(portal, client, container)
    rejected_id = links[1].rsplit("/", 1)[1]
    assert (await post_form(portal, links[1], f"{links[1]}/review", {})).status_code == 303
    rejected = await post_form(
        portal,
        links[1],
        f"{links[1]}/decision",
        {"decision": "rejected", "reason_code": "expired", "note": "Renewed copy needed."},
    )
    assert rejected.status_code == 303
    portal.cookies.clear()
    await sign_in(portal, doctor.email)
    action = f"/credentials/replace/{rejected_id}"
    page = await portal.get(action)
    assert page.status_code == 200
    assert "Renewed copy needed." in page.text
    fields = {**row_fields(0, "board_certification"), "csrf_token": form_token(page.text, action)}
    refused = await portal.post(
        action, data=fields, files=[("file_0", ("x.pdf", html_page(), "application/pdf"))]
    )
    assert refused.status_code == 422
    assert 'id="row-0-errors"' in refused.text
    replaced = await portal.post(action, data=fields, files=[pdf(0, "board-2026.pdf")])
    assert replaced.status_code == 303
    assert replaced.headers["location"] == f"/credentials/submissions/{reference}?notice=replaced"
    mine = await portal.get("/credentials")
    assert "badge--rejected" not in mine.text
    assert mine.text.count("badge--submitted") == 5  # four untouched, one replacement
    gone = await portal.get(action)
    assert "Only a rejected document can be replaced" in gone.text


async def test_a_reviewer_cannot_decide_on_their_own_document(
    portal: httpx.AsyncClient, client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    await doctor_in_portal(portal, client, container, org)
    portal.cookies.clear()
    both, _ = await practitioner(
        client, container, org, roles=[Role.DOCTOR, Role.CREDENTIALING_REVIEWER]
    )
    await sign_in(portal, both.email)
    fields = row_fields(0, "medical_license")
    response = await upload(portal, fields, [pdf(0)])
    assert response.status_code == 303
    link = document_links((await portal.get(response.headers["location"])).text)[0]
    page = await portal.get(link)
    assert "Record decision" not in page.text
    assert "Start review" not in page.text
    token = csrf_token_for(portal, container, "portal.credentials.decide")
    own = await portal.post(f"{link}/decision", data={"decision": "verified", "csrf_token": token})
    assert own.status_code == 403
    assert "cannot decide on their own documents" in own.text
    assert "badge--submitted" in own.text


async def test_a_reviewer_of_another_organization_gets_not_found(
    portal: httpx.AsyncClient, client: httpx.AsyncClient, container: Container
) -> None:
    _, _, reference, links = await review_setup(portal, client, container)
    other_org = await create_org(container)
    foreign = await create_user(container, other_org, roles=[Role.CREDENTIALING_REVIEWER])
    portal.cookies.clear()
    await sign_in(portal, foreign.email)
    assert (await portal.get(links[0])).status_code == 404
    assert (await portal.get(f"{links[0]}/content")).status_code == 404
    assert (await portal.get(f"/credentials/submissions/{reference}")).status_code == 404
    queue = await portal.get("/credentials/review")
    assert document_links(queue.text) == []
    token = csrf_token_for(portal, container, "portal.credentials.decide")
    decide = await portal.post(
        f"{links[0]}/decision", data={"decision": "verified", "csrf_token": token}
    )
    assert decide.status_code == 404
    assert (await count_rows(container))["credential_documents"] == 5


async def test_an_image_is_previewed_with_an_img_element(
    portal: httpx.AsyncClient, client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    async with container.db.unit_of_work() as session:
        from clinvault.models.credentials import CredentialCategory

        session.add(
            CredentialCategory(
                organization_id=org.id,
                code="photo_id",
                label="Photo ID",
                requires_expiry=False,
                allowed_kinds=["png"],
            )
        )
    await doctor_in_portal(portal, client, container, org)
    image = valid_png()
    response = await upload(
        portal,
        row_fields(0, "photo_id", expires_on=""),
        [("file_0", ("id.png", image, "image/png"))],
    )
    assert response.status_code == 303, response.text
    link = document_links((await portal.get(response.headers["location"])).text)[0]
    page = await portal.get(link)
    assert f'<img class="preview__image" src="{link}/content"' in page.text
    content = await portal.get(f"{link}/content")
    assert content.content == image
    assert content.headers["content-type"] == "image/png"


async def test_notifications_page_and_the_unread_counter(
    portal: httpx.AsyncClient, client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    user = await create_user(container, org, roles=[Role.NURSE])
    other = await create_user(container, org, roles=[Role.NURSE])
    async with container.db.unit_of_work() as session:
        for key, link in (("one", "/credentials"), ("two", "https://elsewhere.example/x")):
            await notify_both(session, org, [user, other], key, link)
    await sign_in(portal, user.email)
    home = await portal.get("/")
    assert re.search(r"data-unread-count>2<", home.text)
    page = await portal.get("/notifications")
    assert page.status_code == 200
    assert "2 unread." in page.text
    assert '<a href="/credentials">Title one</a>' in page.text
    assert "elsewhere.example" not in page.text  # links leaving the site are not rendered
    ids = re.findall(r'action="/notifications/([0-9a-f-]{36})/read"', page.text)
    assert len(ids) == 2
    marked = await post_form(portal, "/notifications", f"/notifications/{ids[0]}/read", {})
    assert marked.status_code == 303
    assert re.search(r"data-unread-count>1<", (await portal.get("/")).text)
    everything = await post_form(portal, "/notifications", "/notifications/read-all", {})
    assert everything.status_code == 303
    assert re.search(r"data-unread-count>0<", (await portal.get("/notifications")).text)

    portal.cookies.clear()
    await sign_in(portal, other.email)
    own_page = await portal.get("/notifications")
    assert re.search(r"data-unread-count>2<", own_page.text)
    own_id = re.findall(r'action="/notifications/([0-9a-f-]{36})/read"', own_page.text)[0]
    token = form_token(own_page.text, f"/notifications/{own_id}/read")
    foreign = await portal.post(f"/notifications/{ids[0]}/read", data={"csrf_token": token})
    assert foreign.status_code == 404


async def notify_both(
    session: Any, org: Organization, users: list[User], key: str, link: str
) -> None:
    await notify(
        session,
        organization_id=org.id,
        user_ids=[u.id for u in users],
        kind="test.notice",
        title=f"Title {key}",
        body=f"Body {key}",
        link=link,
        dedupe_key=key,
    )
