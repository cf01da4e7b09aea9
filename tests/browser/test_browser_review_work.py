"""A reviewer works the queue in real Chromium: whose documents, start review, decisions,
and one decision email for the submission in the mail folder; the queue and the
expiring view fit a phone."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, expect
from portal_server import Account, Server, free_port, running_server, seed
from test_browser_login import CHROMIUM, watch_console
from tests.conftest import service_missing
from tests.unit.filecheck.corpus import valid_pdf

DOCTOR = Account(
    email="dr.hopper@example.org",
    password="a lantern on the northern pier",
    display_name="Dr Grace Hopper",
    roles=("doctor",),
    npi="1234567893",
)
REVIEWER = Account(
    email="rita@example.org",
    password="twelve herons along the river",
    display_name="Rita Reviewer",
    roles=("credentialing_reviewer",),
)
SECOND_REVIEWER = Account(
    email="otto@example.org",
    password="seven larks over the harbour",
    display_name="Otto Other",
    roles=("credentialing_reviewer",),
)
DOCUMENTS = (
    ("medical_license", "Texas Medical Board", 20),
    ("board_certification", "American Board of Internal Medicine", 200),
    ("dea_registration", "Drug Enforcement Administration", 700),
)
SIZES = ((1280, 900), (390, 844))

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("portal-review-work-home")


@pytest.fixture(scope="module")
def server(home: Path) -> Iterator[Server]:
    if shutil.which(CHROMIUM) is None:
        service_missing("chromium not installed")
    port = free_port()
    seed(home, port, "Riverside Internal Medicine", [DOCTOR, REVIEWER, SECOND_REVIEWER])
    with running_server(home, port, home / "server.log") as running:
        yield running


def _submit(base: str) -> str:
    """The doctor's submission of three documents through the API; its reference."""
    today = date.today()
    with httpx.Client(base_url=base, timeout=30) as http:
        login = http.post(
            "/api/auth/login", json={"username": DOCTOR.email, "password": DOCTOR.password}
        )
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        metadata = [
            {
                "category": category,
                "issuing_authority": authority,
                "issued_on": (today - timedelta(days=300)).isoformat(),
                "expires_on": (today + timedelta(days=days)).isoformat(),
                "document_number": "AB1234563" if category == "dea_registration" else "MD-1",
            }
            for category, authority, days in DOCUMENTS
        ]
        files = [
            ("files", (f"{category}.pdf", valid_pdf(pad_to=3000 + n), "application/pdf"))
            for n, (category, _, _) in enumerate(DOCUMENTS)
        ]
        response = http.post(
            "/api/credentials/submissions",
            data={"metadata": json.dumps(metadata)},
            files=files,
            headers=headers,
        )
        assert response.status_code == 201, response.text
        reference: str = response.json()["reference"]
        return reference


def _decision_mails(home: Path) -> list[EmailMessage]:
    found = []
    for path in sorted((home / "mail").glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(message, EmailMessage)
        subject = str(message["Subject"])
        if DOCTOR.email in str(message["To"]) and (
            "Decisions on your submission" in subject or " was " in subject
        ):
            found.append(message)
    return found


async def _no_horizontal_scroll(page: Page) -> None:
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px"


async def _sign_in(page: Page, base: str, account: Account) -> None:
    await page.goto(f"{base}/login")
    await page.get_by_label("Email address").fill(account.email)
    await page.get_by_label("Password").fill(account.password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")


async def test_a_reviewer_starts_decides_and_one_email_goes_out(
    server: Server, browser: Browser, home: Path
) -> None:
    base = server.base_url
    reference = _submit(base)
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    errors = watch_console(page)
    await _sign_in(page, base, REVIEWER)
    await page.get_by_role("link", name="Review queue", exact=True).click()
    group = page.get_by_role("region", name="Dr Grace Hopper", exact=True)
    await expect(group).to_be_visible()
    await expect(group.get_by_text("0 of 3 verified")).to_be_visible()
    registry = group.get_by_role("link", name="Check the NPI in the NPPES registry")
    await expect(registry).to_have_attribute(
        "href", "https://npiregistry.cms.hhs.gov/provider-view/1234567893"
    )
    await expect(group.locator("tbody tr")).to_have_count(3)
    await expect(group.get_by_text("Not started")).to_have_count(3)
    await expect(group.get_by_text("Day 0 of 5").first).to_be_visible()

    for index, (category, _, _) in enumerate(DOCUMENTS):
        await page.get_by_role("link", name="Review queue", exact=True).click()
        await (
            page.locator("tbody tr")
            .filter(has_text="Not started")
            .first.get_by_role("link")
            .click()
        )
        await expect(page.locator(".badge--submitted").first).to_be_visible()
        await expect(page.get_by_role("button", name="Record decision")).to_have_count(0)
        if index == 0:
            await expect(
                page.get_by_role("link", name="Check the licence with the Texas Medical Board")
            ).to_have_attribute("href", "https://profile.tmb.state.tx.us/")
        await page.get_by_role("button", name="Start review").click()
        await expect(page.get_by_role("status")).to_contain_text("The review is started")
        await expect(page.locator(".badge--in_review").first).to_be_visible()
        await expect(page.get_by_text("Rita Reviewer (started")).to_be_visible()
        if category == "dea_registration":
            await page.get_by_label("Reject", exact=True).check()
            await page.get_by_label("Reason (for a rejection)").select_option("unverifiable")
            await page.get_by_label("Note to the practitioner").fill("Registration not found.")
        else:
            await page.get_by_label("Verify", exact=True).check()
        await page.get_by_role("button", name="Record decision").click()
        await expect(page.get_by_role("status")).to_contain_text("The document is")
        verified = (1, 2, 2)[index]
        await expect(page.get_by_text(f"{verified} of 3 verified")).to_be_visible()

    await page.get_by_role("link", name="Review queue", exact=True).click()
    await expect(page.get_by_text("Nothing to review here.")).to_be_visible()
    for _ in range(300):
        if _decision_mails(home):
            break
        await asyncio.sleep(0.1)
    mails = _decision_mails(home)
    assert len(mails) == 1, [str(m["Subject"]) for m in mails]
    assert str(mails[0]["Subject"]) == (
        f"Decisions on your submission {reference}: 2 verified, 1 rejected"
    )

    await page.get_by_role("link", name="Expiring credentials", exact=True).click()
    await expect(page.get_by_text("1 document expiring within 60 days.")).to_be_visible()
    await expect(page.get_by_role("cell", name="Dr Grace Hopper")).to_be_visible()
    await page.get_by_label("Expiring within").select_option("365")
    await page.get_by_role("button", name="Filter").click()
    await expect(page.get_by_text("2 documents expiring within 365 days.")).to_be_visible()

    await page.set_viewport_size({"width": SIZES[1][0], "height": SIZES[1][1]})
    for path in ("/credentials/expiring?days=365", "/credentials/review?status=verified"):
        await page.goto(f"{base}{path}")
        await expect(page.get_by_role("heading", level=1)).to_be_visible()
        await _no_horizontal_scroll(page)
    await expect(page.get_by_text("2 of 3 verified, 1 expiring in 30 days")).to_be_visible()
    await page.locator("tbody tr").first.get_by_role("link").click()
    await expect(page.get_by_role("heading", name="Dr Grace Hopper", exact=True)).to_be_visible()
    await _no_horizontal_scroll(page)
    assert errors == []
    await context.close()
