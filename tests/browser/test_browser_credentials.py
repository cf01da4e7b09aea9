"""Credential intake in real Chromium: five uploads, a reference, a review, the new statuses."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect
from portal_server import Account, Server, free_port, running_server, seed
from test_browser_login import CHROMIUM, watch_console
from tests.conftest import service_missing
from tests.unit.filecheck.corpus import valid_pdf

DOCTOR = Account(
    email="dr.ortho@example.org",
    password="a lantern on the northern pier",
    display_name="Dr Ada Ortho",
    roles=("doctor",),
    npi="1234567893",
)
REVIEWER = Account(
    email="credentialing@example.org",
    password="twelve herons along the river",
    display_name="Credentialing Team",
    roles=("credentialing_reviewer",),
)

DOCUMENTS = (
    ("medical_license", "Ohio State Medical Board", "MD-448812"),
    ("board_certification", "American Board of Orthopaedic Surgery", "ABOS-9921"),
    ("dea_registration", "Drug Enforcement Administration", "AB1234563"),
    ("curriculum_vitae", "Self", "CV-2025"),
    ("malpractice_insurance", "Northern Mutual", "POL-77812"),
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if shutil.which(CHROMIUM) is None:
        service_missing("chromium not installed")
    home = tmp_path_factory.mktemp("portal-credentials-home")
    port = free_port()
    seed(home, port, "Riverside Orthopedics", [DOCTOR, REVIEWER])
    with running_server(home, port, home / "server.log") as running:
        yield running


async def signed_in(browser: Browser, base: str, account: Account) -> tuple[BrowserContext, Page]:
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"{base}/login")
    await page.get_by_label("Email address").fill(account.email)
    await page.get_by_label("Password").fill(account.password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")
    return context, page


def pdf_files(folder: Path) -> list[Path]:
    paths = []
    for index, (category, _, _) in enumerate(DOCUMENTS):
        path = folder / f"{category}.pdf"
        path.write_bytes(valid_pdf(pad_to=4000 + index * 1000))
        paths.append(path)
    return paths


async def test_upload_five_review_them_and_see_the_statuses(
    server: Server, browser: Browser, tmp_path: Path
) -> None:
    base = server.base_url
    files = pdf_files(tmp_path)
    today = date.today()

    doctor_context, doctor = await signed_in(browser, base, DOCTOR)
    doctor_errors = watch_console(doctor)
    await doctor.get_by_role("link", name="Upload documents").click()
    await expect(doctor.get_by_role("heading", name="Upload documents")).to_be_visible()
    for _ in range(len(DOCUMENTS) - 1):
        await doctor.get_by_role("button", name="Add another document").click()
    await expect(doctor.locator("[data-upload-row]")).to_have_count(len(DOCUMENTS))
    # The rows were added in place, without leaving the page.
    await expect(doctor).to_have_url(f"{base}/credentials/upload")

    for n, ((category, authority, number), path) in enumerate(zip(DOCUMENTS, files, strict=True)):
        await doctor.locator(f"#file_{n}").set_input_files(str(path))
        await doctor.locator(f"#category_{n}").select_option(category)
        await doctor.locator(f"#issuing_authority_{n}").fill(authority)
        await doctor.locator(f"#document_number_{n}").fill(number)
        await doctor.locator(f"#issued_on_{n}").fill((today - timedelta(days=300)).isoformat())
        if category != "curriculum_vitae":
            expires = today + timedelta(days=20 if category == "dea_registration" else 800)
            await doctor.locator(f"#expires_on_{n}").fill(expires.isoformat())

    await doctor.get_by_role("button", name="Submit documents").click()
    await expect(doctor).to_have_url(
        re.compile(r"/credentials/submissions/[^?]+\?notice=submitted")
    )
    await expect(doctor.get_by_text("Your documents were received")).to_be_visible()
    reference = (await doctor.locator("[data-reference]").inner_text()).strip()
    assert re.fullmatch(r"[0-9A-Z*~$=]{6,16}", reference), reference
    await expect(doctor.get_by_text("Estimated review by")).to_be_visible()
    await expect(doctor.locator("tbody tr")).to_have_count(len(DOCUMENTS))
    await doctor.get_by_role("link", name="My credentials", exact=True).click()
    await expect(doctor.locator(".badge--submitted")).to_have_count(len(DOCUMENTS))
    await expect(doctor.locator(".badge--expiry.badge--warning")).to_have_text("Expires in 20 days")

    reviewer_context, reviewer = await signed_in(browser, base, REVIEWER)
    reviewer_errors = watch_console(reviewer)
    await reviewer.get_by_role("link", name="Review queue", exact=True).click()
    await expect(reviewer.get_by_text("5 documents, oldest first.")).to_be_visible()
    for index, (category, _, _) in enumerate(DOCUMENTS):
        await reviewer.locator("tbody tr").first.get_by_role("link").click()
        await reviewer.get_by_role("button", name="Start review").click()
        await expect(reviewer.locator(".badge--in_review").first).to_be_visible()
        frame = reviewer.locator("iframe.preview__frame")
        source = await frame.get_attribute("src")
        assert source is not None
        preview = await reviewer.request.get(f"{base}{source}")
        assert preview.headers["content-type"] == "application/pdf"
        assert (await preview.body()).startswith(b"%PDF-")
        if category == "malpractice_insurance":
            await reviewer.get_by_label("Reject", exact=True).check()
            await reviewer.get_by_label("Reason (for a rejection)").select_option("illegible")
            await reviewer.get_by_label("Note to the practitioner").fill(
                "The policy page is blurred."
            )
        else:
            await reviewer.get_by_label("Verify", exact=True).check()
        await reviewer.get_by_role("button", name="Record decision").click()
        await expect(reviewer.get_by_role("status")).to_contain_text("The document is")
        await reviewer.get_by_role("link", name="Back to the review queue").click()
        await expect(reviewer.get_by_text(f"{4 - index} document")).to_be_visible()
    await expect(reviewer.get_by_text("Nothing to review here.")).to_be_visible()

    await doctor.reload()
    await expect(doctor.locator(".badge--verified")).to_have_count(4)
    await expect(doctor.locator(".badge--rejected")).to_have_count(1)
    await expect(doctor.get_by_text("Illegible: The policy page is blurred.")).to_be_visible()
    await expect(doctor.get_by_role("link", name="Replace malpractice insurance")).to_be_visible()
    await doctor.screenshot(path=str(tmp_path / "my-credentials.png"), full_page=True)

    assert doctor_errors == []
    assert reviewer_errors == []
    await reviewer_context.close()
    await doctor_context.close()


async def test_upload_without_javascript_adds_rows_and_keeps_values_and_files(
    server: Server, browser: Browser, tmp_path: Path
) -> None:
    base = server.base_url
    context = await browser.new_context(java_script_enabled=False)
    page = await context.new_page()
    await page.goto(f"{base}/login")
    await page.get_by_label("Email address").fill(DOCTOR.email)
    await page.get_by_label("Password").fill(DOCTOR.password)
    await page.get_by_role("button", name="Sign in").click()
    await page.goto(f"{base}/credentials/upload")
    good = tmp_path / "license.pdf"
    good.write_bytes(valid_pdf(pad_to=3000))
    await page.locator("#file_0").set_input_files(str(good))
    await page.locator("#category_0").select_option("medical_license")
    await page.locator("#issuing_authority_0").fill("Ohio State Medical Board")
    await page.locator("#document_number_0").fill("MD-1")
    # Adding a row sends the form: it comes back with what was typed and the file kept.
    await page.get_by_role("button", name="Add another document").click()
    await expect(page.locator("[data-upload-row]")).to_have_count(2)
    await expect(page.locator("#issuing_authority_0")).to_have_value("Ohio State Medical Board")
    await expect(page.locator("#file_0-kept")).to_contain_text("File kept: license.pdf")

    bad = tmp_path / "board.pdf"
    bad.write_bytes(b"<html><body>not a pdf</body></html>")
    await page.locator("#issued_on_0").fill("2020-01-02")
    await page.locator("#expires_on_0").fill("2031-01-02")
    await page.locator("#file_1").set_input_files(str(bad))
    await page.locator("#category_1").select_option("board_certification")
    await page.locator("#issuing_authority_1").fill("American Board")
    await page.locator("#document_number_1").fill("AB-2")
    await page.locator("#issued_on_1").fill("2021-01-02")
    await page.get_by_role("button", name="Submit documents").click()
    await expect(page.get_by_role("alert")).to_contain_text("Nothing was stored yet")
    await expect(page.locator("#file_1-error")).to_be_visible()
    await expect(page.locator("#expires_on_1-error")).to_contain_text("Enter the expiry date")
    await expect(page.locator("#file_0-kept")).to_contain_text("File kept: license.pdf")
    await expect(page.locator("#issuing_authority_1")).to_have_value("American Board")
    await expect(page.locator("#expires_on_0")).to_have_value("2031-01-02")
    await context.close()
