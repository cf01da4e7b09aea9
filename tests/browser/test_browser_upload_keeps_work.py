"""The credential upload keeps the practitioner's work, in real Chromium, desktop and phone.

One server and one browser for the module: at 1280x900 and at 390x844 a
practitioner meets a 25 MB file flagged on the form without any request, a
field error next to its own field, and a submission with one bad row that
comes back with the other file kept and every typed value, so that only the
bad row needs a new file.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, Request, expect
from portal_server import Account, Server, free_port, running_server, seed
from test_browser_login import CHROMIUM, watch_console
from tests.conftest import service_missing
from tests.unit.filecheck.corpus import html_page, valid_pdf

DOCTOR = Account(
    email="dr.keeps@example.org",
    password="a lantern on the southern pier",
    display_name="Dr Kim Keeps",
    roles=("doctor",),
    npi="1234567893",
)
VIEWPORTS = ({"width": 1280, "height": 900}, {"width": 390, "height": 844})
TODAY = date.today()

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if shutil.which(CHROMIUM) is None:
        service_missing("chromium not installed")
    home = tmp_path_factory.mktemp("portal-upload-keeps-work-home")
    port = free_port()
    seed(home, port, "Riverside Keeps Clinic", [DOCTOR])
    with running_server(home, port, home / "server.log") as running:
        yield running


def files(folder: Path) -> dict[str, Path]:
    made = {
        "license": folder / "license.pdf",
        "board": folder / "board.pdf",
        "fake": folder / "board-fake.pdf",
        "huge": folder / "scan-25mb.pdf",
    }
    made["license"].write_bytes(valid_pdf(pad_to=5000))
    made["board"].write_bytes(valid_pdf(pad_to=6000))
    made["fake"].write_bytes(html_page())
    with made["huge"].open("wb") as handle:
        handle.write(b"%PDF-1.7\n")
        handle.truncate(25 * 1000 * 1000)
    return made


async def fill_row(page: Page, n: int, category: str, authority: str, number: str) -> None:
    await page.locator(f"#category_{n}").select_option(category)
    await page.locator(f"#issuing_authority_{n}").fill(authority)
    await page.locator(f"#document_number_{n}").fill(number)
    await page.locator(f"#issued_on_{n}").fill((TODAY - timedelta(days=300)).isoformat())
    await page.locator(f"#expires_on_{n}").fill((TODAY + timedelta(days=800)).isoformat())


async def no_horizontal_scroll(page: Page) -> None:
    widths = await page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], widths


async def test_the_upload_keeps_work_at_desktop_and_phone_sizes(
    server: Server, browser: Browser, tmp_path: Path
) -> None:
    base = server.base_url
    paths = files(tmp_path)
    for viewport in VIEWPORTS:
        context = await browser.new_context(viewport=viewport)  # type: ignore[arg-type]
        page = await context.new_page()
        errors = watch_console(page)
        posts: list[str] = []

        def note(request: Request, sent: list[str] = posts) -> None:
            if request.method == "POST" and "/credentials/upload" in request.url:
                sent.append(request.url)

        page.on("request", note)
        await page.goto(f"{base}/login")
        await page.get_by_label("Email address").fill(DOCTOR.email)
        await page.get_by_label("Password").fill(DOCTOR.password)
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")
        await page.goto(f"{base}/credentials/upload")
        await page.get_by_role("button", name="Add another document").click()
        await expect(page.locator("[data-upload-row]")).to_have_count(2)

        # The picker offers only what the category takes.
        assert await page.locator("#file_0").get_attribute("accept") == ".pdf,application/pdf"
        await page.locator("#category_0").select_option("curriculum_vitae")
        assert ".docx" in (await page.locator("#file_0").get_attribute("accept") or "")
        await expect(page.locator("#document_number_0")).not_to_have_attribute("required", "")

        await fill_row(page, 0, "medical_license", "Ohio State Medical Board", "MD-448812")
        await page.locator("#file_0").set_input_files(str(paths["license"]))
        await fill_row(page, 1, "board_certification", "American Board", "ABOS-9921")

        # A 25 MB file: the limit is shown next to the file at once, nothing is sent.
        await page.locator("#file_1").set_input_files(str(paths["huge"]))
        huge_error = page.locator("#file_1-error")
        await expect(huge_error).to_be_visible()
        await expect(huge_error).to_contain_text("is larger than the 20 MB limit")
        await expect(page.locator("#file_1")).to_have_attribute("aria-invalid", "true")
        described = await page.locator("#file_1").get_attribute("aria-describedby") or ""
        assert "file_1-error" in described.split()

        # A field error sits next to its own field, and the form is not sent.
        await page.locator("#expires_on_1").fill((TODAY - timedelta(days=400)).isoformat())
        await page.get_by_role("button", name="Submit documents").click()
        expiry_error = page.locator("#expires_on_1-error")
        await expect(expiry_error).to_have_text(
            "Expiry date is before the issue date: check both dates."
        )
        same_field = page.locator(".field", has=page.locator("#expires_on_1"))
        await expect(same_field.locator(".field__error")).to_have_text(
            "Expiry date is before the issue date: check both dates."
        )
        assert await page.locator("#expires_on_1").get_attribute("aria-describedby") == (
            "expires_on_1-error"
        )
        await expect(page.locator("#issuing_authority_0-error")).to_be_hidden()
        await expect(page.locator("[data-form-problems]")).to_contain_text("2 problems")
        assert posts == []
        await no_horizontal_scroll(page)

        # Fixed in the browser; the server then refuses the board file by its bytes.
        await page.locator("#expires_on_1").fill((TODAY + timedelta(days=800)).isoformat())
        await page.locator("#file_1").set_input_files(str(paths["fake"]))
        await expect(huge_error).to_be_hidden()
        await page.get_by_role("button", name="Submit documents").click()
        await expect(page.locator("[role='alert']").first).to_contain_text("Nothing was stored yet")
        assert len(posts) == 1
        kept = page.locator("#file_0-kept")
        await expect(kept).to_contain_text("File kept: license.pdf")
        await expect(page.locator("#issuing_authority_0")).to_have_value("Ohio State Medical Board")
        await expect(page.locator("#document_number_1")).to_have_value("ABOS-9921")
        await expect(page.locator("#category_1")).to_have_value("board_certification")
        await expect(page.locator("#file_1-error")).to_be_visible()
        await expect(page.locator("#file_0-error")).to_be_hidden()
        await no_horizontal_scroll(page)

        # Only the refused row gets a new file.
        await page.locator("#file_1").set_input_files(str(paths["board"]))
        await page.get_by_role("button", name="Submit documents").click()
        await expect(page).to_have_url(
            re.compile(r"/credentials/submissions/[^?]+\?notice=submitted")
        )
        await expect(page.locator("tbody tr")).to_have_count(2)
        assert len(posts) == 2
        assert errors == []
        await context.close()
