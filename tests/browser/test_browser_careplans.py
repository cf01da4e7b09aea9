"""Care plans in real Chromium, across two provider organizations.

A doctor writes a plan (shared with the patient) and shares it with a doctor
of a partner clinic, who accepts, comments and edits it; the first doctor
sees the notification, the new version and the diff. Two edit pages opened on
the same version: the second save gets the 412 message with everything typed
kept, then saves on top of the newer version. The patient reads the plan,
read-only. Every page visited fits a 390 px wide screen.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect
from portal_server import (
    Account,
    Server,
    api_bearer,
    free_port,
    register_linked_patient,
    running_server,
)
from test_browser_login import CHROMIUM, sign_in, watch_console
from tests.conftest import service_missing
from two_org_seed import seed_two_organizations

DOCTOR = Account(
    email="dr.ines@riverside.example.org",
    password="kites above the harbour wall",
    display_name="Dr Ines Okafor",
    roles=("doctor",),
)
CLERK = Account(
    email="desk@riverside.example.org",
    password="lanterns along the canal path",
    display_name="Pat Desk",
    roles=("clerk",),
)
PATIENT = Account(
    email="tomas.lind@example.org",
    password="otters asleep in the reed beds",
    display_name="Tomas Lind",
    roles=("patient",),
)
PARTNER = Account(
    email="dr.kofi@hillside.example.org",
    password="granite steps to the old mill",
    display_name="Dr Kofi Mensah",
    roles=("doctor",),
)
PHARMACIST = Account(
    email="counter@corner.example.org",
    password="brass scales on the counter",
    display_name="Lee Counter",
    roles=("pharmacist",),
)
WIDE = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
BODY = (
    "## Plan\n\nWalk 20 minutes daily.\nCheck blood pressure weekly.\n\n<script>alert(1)</script>"
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if shutil.which(CHROMIUM) is None:
        service_missing("chromium not installed")
    home = tmp_path_factory.mktemp("portal-cp-home")
    port = free_port()
    seed_two_organizations(
        home,
        port,
        ("Riverside Clinic", [DOCTOR, CLERK, PATIENT]),
        ("Corner Pharmacy", "Springfield", [PHARMACIST]),
        partner=("Hillside Practice", [PARTNER]),
    )
    with running_server(home, port, home / "server.log") as running:
        yield running


def register_patient(base_url: str) -> str:
    """The front desk registers Tomas and links his account; the chart's id."""
    with httpx.Client(base_url=base_url, timeout=30) as api:
        clerk = api_bearer(api, CLERK)
        return register_linked_patient(
            api,
            clerk,
            PATIENT,
            {
                "first_name": "Tomas",
                "last_name": "Lind",
                "date_of_birth": "1958-03-02",
                "gender": "male",
            },
        )


async def open_as(
    browser: Browser, base: str, account: Account
) -> tuple[BrowserContext, Page, list[str]]:
    context = await browser.new_context(viewport=WIDE)  # type: ignore[arg-type]
    page = await context.new_page()
    problems = watch_console(page)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("dialog", lambda dialog: problems.append(f"dialog: {dialog.message}"))
    await sign_in(page, base, account)
    await expect(page).to_have_url(f"{base}/")
    return context, page, problems


async def assert_fits_phone(page: Page, urls: list[str]) -> None:
    """No page is wider than a 390 px screen."""
    await page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    for url in urls:
        await page.goto(url)
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{url} is {width}px wide at 390px"
    await page.set_viewport_size(WIDE)  # type: ignore[arg-type]


async def test_care_plan_shared_commented_edited_and_merged_across_organizations(
    server: Server, browser: Browser
) -> None:
    base = server.base_url
    register_patient(base)

    # Dr Okafor writes the plan.
    doctor, page, problems = await open_as(browser, base, DOCTOR)
    await page.get_by_role("link", name="Care plans", exact=True).click()
    await page.get_by_role("link", name="New care plan").click()
    await page.get_by_label("Patient", exact=True).select_option(label="Lind, Tomas (1958-03-02)")
    await page.get_by_label("Title", exact=True).fill("Hypertension follow-up")
    await page.get_by_label("Status", exact=True).select_option("active")
    await page.get_by_label("Start (optional)").fill("2026-01-05")
    await page.get_by_label("End (optional)").fill("2026-06-30")
    await page.get_by_label("Goals").fill("Blood pressure under 140/90\nLose 3 kg")
    await page.get_by_label("Activity 1: what").fill("Home blood pressure log")
    await page.get_by_label("Activity 1: who").fill("Patient")
    await page.get_by_label("Activity 1: when").fill("Weekly")
    await page.get_by_label("Activity 1: status").select_option("in_progress")
    await page.get_by_label("Plan text").fill(BODY)
    await page.get_by_label(re.compile("Share with the patient")).check()
    await page.get_by_role("button", name="Save care plan").click()
    await expect(page.get_by_text("Care plan saved as version 1.")).to_be_visible()
    plan_url = page.url.split("?")[0]
    body = page.get_by_test_id("plan-body")
    await expect(body.locator("h2")).to_have_text("Plan")
    await expect(body).to_contain_text("<script>alert(1)</script>")
    assert await body.locator("script").count() == 0
    await expect(page.get_by_role("cell", name="Home blood pressure log")).to_be_visible()

    # ... and shares it with Dr Mensah of Hillside Practice, at "edit".
    partner, partner_page, partner_problems = await open_as(browser, base, PARTNER)
    await partner_page.get_by_role("link", name="Profile", exact=True).click()
    partner_id = (await partner_page.get_by_test_id("user-id").inner_text()).strip()
    await page.get_by_text("Share this plan").click()
    await page.get_by_label("Their id").fill("not-an-id")
    await page.get_by_role("button", name="Share", exact=True).click()
    await expect(page.locator("#share-error")).to_contain_text("Enter the user's id")
    await expect(page.get_by_label("Their id")).to_have_value("not-an-id")
    await page.get_by_label("Their id").fill(partner_id)
    await page.get_by_label("Level").select_option("edit")
    await page.get_by_role("button", name="Share", exact=True).click()
    await expect(page.get_by_text("Shared.")).to_be_visible()
    shares = page.locator("#shares tbody tr")
    await expect(shares).to_contain_text("Dr Kofi Mensah")
    await expect(shares).to_contain_text("Waiting for acceptance")

    # Dr Mensah accepts, comments and edits.
    await partner_page.get_by_role("link", name="Care plans", exact=True).click()
    await partner_page.get_by_role("button", name="Accept share").click()
    await expect(partner_page.get_by_text("Share accepted")).to_be_visible()
    await expect(partner_page.locator("h1")).to_have_text("Hypertension follow-up")
    await partner_page.get_by_label("New comment on version 1").fill("Consider a salt target.")
    await partner_page.get_by_label("About (optional)").select_option(
        label="Goal 1: Blood pressure under 140/90"
    )
    await partner_page.get_by_role("button", name="Add comment").click()
    await expect(partner_page.get_by_text("Comment added.")).to_be_visible()
    await partner_page.get_by_role("link", name="Edit plan").click()
    await expect(partner_page.get_by_label("Plan text")).to_have_value(BODY)
    await partner_page.get_by_label("Goals").fill(
        "Blood pressure under 130/80\nLose 3 kg\nSalt under 5 g a day"
    )
    await partner_page.get_by_label("Plan text").fill(
        BODY.replace("Walk 20 minutes daily.", "Walk 30 minutes daily.")
    )
    await partner_page.get_by_role("button", name="Save new version").click()
    await expect(partner_page.get_by_text("Saved as a new version.")).to_be_visible()
    await expect(partner_page.get_by_test_id("plan-version")).to_have_text("version 2")
    await expect(partner_page.locator(".badge", has_text="outdated")).to_be_visible()
    await partner_page.get_by_role("link", name="Care plans", exact=True).click()
    await expect(partner_page.get_by_role("link", name="Hypertension follow-up")).to_be_visible()

    # Dr Okafor is told, opens the plan from the notification, sees version 2 and the diff.
    await page.goto(f"{base}/notifications")
    notice = page.get_by_role("link", name="A care plan you watch has a new version")
    await expect(notice.first).to_be_visible()
    await expect(page.get_by_text("New comment on a care plan you watch").first).to_be_visible()
    await notice.first.click()
    await expect(page).to_have_url(plan_url)
    await expect(page.get_by_test_id("plan-version")).to_have_text("version 2")
    await expect(page.get_by_text("Consider a salt target.")).to_be_visible()
    comment = page.get_by_test_id("comment").first
    await expect(comment).to_contain_text("Dr Kofi Mensah")
    await expect(comment).to_contain_text("version 1")
    await expect(comment).to_contain_text("outdated")
    await page.get_by_role("link", name="Changes in 2").click()
    diff_url = page.url
    await expect(page.locator("h1")).to_have_text("Version 1 compared with version 2")
    fields = page.get_by_role("row", name=re.compile("^Goals"))
    await expect(fields).to_contain_text("Salt under 5 g a day")
    text_diff = page.get_by_test_id("body-diff")
    await expect(text_diff.locator(".diff-old")).to_contain_text("Walk 20 minutes daily.")
    await expect(text_diff.locator(".diff-new")).to_contain_text("Walk 30 minutes daily.")

    # Two edit pages on version 2: the partner saves first, the second save is refused.
    await page.goto(plan_url)
    await page.get_by_role("link", name="Edit plan").click()
    await partner_page.goto(f"{plan_url}/edit")
    await partner_page.get_by_label("Title", exact=True).fill("Hypertension follow-up (shared)")
    mine = BODY.replace("20 minutes", "30 minutes") + "\n\nReview at the June visit."
    await page.get_by_label("Plan text").fill(mine)
    await partner_page.get_by_role("button", name="Save new version").click()
    await expect(partner_page.get_by_test_id("plan-version")).to_have_text("version 3")
    await page.get_by_role("button", name="Save new version").click()
    conflict = page.locator("#conflict")
    await expect(conflict).to_contain_text("Dr Kofi Mensah changed this plan at")
    await expect(conflict).to_contain_text("now version 3; you started from version 2")
    await expect(page.get_by_label("Plan text")).to_have_value(mine)
    edit_url = page.url
    async with doctor.expect_page() as opened:
        await conflict.get_by_role("link", name=re.compile("See what changed")).click()
    changes = await opened.value
    await expect(changes.get_by_role("row", name=re.compile("^Title"))).to_contain_text("(shared)")
    await changes.close()
    await expect(page.get_by_label("Plan text")).to_have_value(mine)
    await page.get_by_label("Title", exact=True).fill("Hypertension follow-up (shared)")
    await page.get_by_role("button", name="Save new version").click()
    await expect(page.get_by_text("Saved as a new version.")).to_be_visible()
    await expect(page.get_by_test_id("plan-version")).to_have_text("version 4")
    await expect(page.locator("h1")).to_have_text("Hypertension follow-up (shared)")
    await expect(page.get_by_test_id("plan-body")).to_contain_text("Review at the June visit.")
    await expect(page.get_by_test_id("plan-body")).to_contain_text("Walk 30 minutes daily.")
    await expect(page.locator("#versions tbody tr")).to_have_count(4)

    await assert_fits_phone(
        page,
        [f"{base}/care-plans", plan_url, f"{plan_url}/edit", diff_url, f"{base}/notifications"],
    )
    await assert_fits_phone(partner_page, [f"{base}/care-plans", plan_url])
    assert problems == []
    assert partner_problems == []
    assert edit_url.endswith("/edit")
    await partner.close()
    await doctor.close()

    # The patient reads the plan, without its comments or history.
    context, page, problems = await open_as(browser, base, PATIENT)
    await page.get_by_role("link", name="My care plans").click()
    await page.get_by_role("link", name="Hypertension follow-up (shared)").click()
    await expect(page.get_by_test_id("plan-body")).to_contain_text("Walk 30 minutes daily.")
    await expect(page.get_by_role("link", name="Edit plan")).to_have_count(0)
    await expect(page.locator("#comments")).to_have_count(0)
    await assert_fits_phone(page, [f"{base}/my-care-plans", plan_url])
    assert problems == []
    await context.close()
