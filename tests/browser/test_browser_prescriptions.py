"""Prescriptions and record imports in real Chromium, across a clinic and a pharmacy.

The loop: a doctor prescribes from the chart (the allergy warning acknowledged)
and signs; the patient sees it; the pharmacist accepts it, dispenses part, then
the rest, and verifies the printed link. The import: a clerk uploads a small
CSV, watches the job finish and opens the error report. Every page visited is
checked for horizontal overflow at 1280x900 and 390x844.
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
    email="dr.amani@riverside.example.org",
    password="a lighthouse beyond the dunes",
    display_name="Dr Amani Reyes",
    roles=("doctor",),
)
CLERK = Account(
    email="front.desk@riverside.example.org",
    password="paper boats on the millpond",
    display_name="Robin Desk",
    roles=("clerk",),
)
PATIENT = Account(
    email="noor.haddad@example.org",
    password="swallows under the old bridge",
    display_name="Noor Haddad",
    roles=("patient",),
)
PHARMACIST = Account(
    email="pharmacist@mainstreet.example.org",
    password="cinnamon jars on the top shelf",
    display_name="Sam Chemist",
    roles=("pharmacist",),
)
VIEWPORTS = ({"width": 1280, "height": 900}, {"width": 390, "height": 844})
CSV = (
    "medical_record_number,first_name,last_name,date_time,doctors_notes\n"
    "IMP-1,Lena,Berg,2025-03-26T10:30:00-07:00,Seen for cough.\n"
    "IMP-2,Omar,Said,2025-02-01T08:15:00Z,Follow-up.\n"
    "IMP-3,Ivy,Chen,2025-02-30T08:15:00Z,Impossible date.\n"
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if shutil.which(CHROMIUM) is None:
        service_missing("chromium not installed")
    home = tmp_path_factory.mktemp("portal-rx-home")
    port = free_port()
    seed_two_organizations(
        home,
        port,
        ("Riverside Clinic", [DOCTOR, CLERK, PATIENT]),
        ("Main Street Pharmacy", "Springfield", [PHARMACIST]),
    )
    with running_server(home, port, home / "server.log") as running:
        yield running


def register_patient(base_url: str) -> str:
    """The front desk registers Noor (allergic to penicillin) and links her account."""
    with httpx.Client(base_url=base_url, timeout=30) as api:
        clerk = api_bearer(api, CLERK)
        return register_linked_patient(
            api,
            clerk,
            PATIENT,
            {
                "first_name": "Noor",
                "last_name": "Haddad",
                "date_of_birth": "1990-07-14",
                "gender": "female",
                "allergies": "Penicillin; latex",
            },
        )


async def open_as(
    browser: Browser, base: str, account: Account
) -> tuple[BrowserContext, Page, list[str]]:
    context = await browser.new_context(viewport=VIEWPORTS[0])  # type: ignore[arg-type]
    page = await context.new_page()
    problems = watch_console(page)
    page.on("pageerror", lambda error: problems.append(str(error)))
    await sign_in(page, base, account)
    await expect(page).to_have_url(f"{base}/")
    return context, page, problems


async def assert_fits(page: Page, urls: list[str]) -> None:
    """No page overflows horizontally at either viewport."""
    for viewport in VIEWPORTS:
        await page.set_viewport_size(viewport)  # type: ignore[arg-type]
        for url in urls:
            await page.goto(url)
            overflow = await page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{url} overflows by {overflow}px at {viewport['width']}px"
    await page.set_viewport_size(VIEWPORTS[0])  # type: ignore[arg-type]


async def test_prescription_loop_across_clinic_patient_and_pharmacy(
    server: Server, browser: Browser
) -> None:
    base = server.base_url
    patient_id = register_patient(base)

    context, page, problems = await open_as(browser, base, DOCTOR)
    await page.get_by_role("link", name="Patients", exact=True).click()
    await page.get_by_role("link", name="Haddad, Noor").click()
    await page.get_by_role("link", name="Prescribe").click()
    await expect(page.locator("#allergies")).to_contain_text("Penicillin")
    await page.get_by_label("Medication name").fill("Penicillin V potassium")
    await page.get_by_label("Strength").fill("250 mg")
    await page.get_by_label("Dose form").fill("tablet")
    await page.get_by_label("Directions (sig)").fill("One tablet four times a day.")
    await page.get_by_label("Quantity").fill("30")
    await page.get_by_label("Unit", exact=True).select_option("tablet")
    await page.get_by_label("Days' supply").fill("8")
    await page.get_by_label("Refills allowed").fill("0")
    await page.get_by_label("Find a pharmacy by name or city").fill("Springfield")
    await page.get_by_role("button", name="Find pharmacies").click()
    await page.get_by_label(re.compile("Main Street Pharmacy")).check()
    await page.get_by_role("button", name="Save draft").click()
    # The medication matches a recorded allergy: the form comes back with everything kept.
    await expect(page.locator("#allergy_acknowledged-error")).to_contain_text("Penicillin")
    await expect(page.get_by_label("Quantity")).to_have_value("30")
    await expect(page.get_by_label(re.compile("Main Street Pharmacy"))).to_be_checked()
    prescribe_url = page.url
    await page.get_by_label(re.compile("I have checked the recorded allergy")).check()
    await page.get_by_role("button", name="Save draft").click()
    await expect(page.get_by_text("Draft saved.")).to_be_visible()
    await page.get_by_role("button", name="Sign prescription").click()
    await expect(page.get_by_text("Signed: the prescription is active")).to_be_visible()
    number = (await page.locator("h1 .reference").inner_text()).strip()
    detail_url = page.url.split("?")[0]
    link = (await page.locator("code.checksum").inner_text()).strip()
    assert "/pharmacy/verify/" in link
    pdf = await page.request.get(f"{detail_url}/pdf")
    assert pdf.status == 200
    assert (await pdf.body()).startswith(b"%PDF")
    await page.get_by_role("link", name="Prescriptions", exact=True).click()
    await expect(page.get_by_role("link", name=number)).to_be_visible()
    await assert_fits(
        page, [f"{base}/patients/{patient_id}", prescribe_url, detail_url, f"{base}/prescriptions"]
    )
    assert problems == []
    await context.close()

    context, page, problems = await open_as(browser, base, PATIENT)
    await page.get_by_role("link", name="My prescriptions", exact=True).click()
    card = page.locator("section.card", has_text=number)
    await expect(card).to_contain_text("Main Street Pharmacy")
    await expect(card).to_contain_text("Ready for the pharmacy")
    await assert_fits(page, [f"{base}/my-prescriptions", detail_url])
    assert problems == []
    await context.close()

    context, page, problems = await open_as(browser, base, PHARMACIST)
    await page.get_by_role("link", name="Pharmacy queue", exact=True).click()
    row = page.locator("tr", has_text=number)
    await expect(row).to_contain_text("Haddad, Noor")
    queue_url = page.url
    await row.get_by_role("button", name=re.compile("Accept")).click()
    await expect(page.get_by_text("Accepted: this fill is now held")).to_be_visible()
    await page.get_by_label("Quantity handed over (tablet)").fill("40")
    await page.get_by_role("button", name="Record dispense").click()
    await expect(page.locator("#dispense-error")).to_contain_text("30 tablet remain")
    await expect(page.get_by_label("Quantity handed over (tablet)")).to_have_value("40")
    await page.get_by_label("Quantity handed over (tablet)").fill("12")
    await page.get_by_role("button", name="Record dispense").click()
    await expect(page.get_by_text("Dispense recorded.")).to_be_visible()
    await expect(page.get_by_text("18 tablet remaining")).to_be_visible()
    await expect(page.get_by_test_id("remaining")).to_contain_text("12 of 30 tablet")
    await page.get_by_label("Quantity handed over (tablet)").fill("18")
    await page.get_by_role("button", name="Record dispense").click()
    await expect(page.get_by_text("Dispense recorded.")).to_be_visible()
    await expect(page.get_by_test_id("remaining")).to_contain_text("30 of 30 tablet · 0 remaining")
    await expect(page.locator(".badge--status").first).to_have_text("Completed")
    await page.get_by_role("link", name="Pharmacy queue", exact=True).click()
    await page.get_by_role("link", name="Completed", exact=True).click()
    await expect(page.get_by_role("link", name=number)).to_be_visible()
    await page.get_by_role("link", name="Verify a prescription").first.click()
    await page.get_by_label("Verification link or code").fill(link)
    await page.get_by_role("button", name="Verify").click()
    await expect(page.locator(".verdict")).to_contain_text("Genuine")
    await expect(page.locator(".facts")).to_contain_text("0 tablet")
    verify_url = page.url
    await page.goto(verify_url[:-3] + "xyz")
    await expect(page.locator(".verdict")).to_contain_text("Not valid")
    await assert_fits(page, [queue_url, detail_url, verify_url])
    problems = [p for p in problems if "422" not in p]
    assert problems == []
    await context.close()

    context, page, problems = await open_as(browser, base, PATIENT)
    await page.get_by_role("link", name="My prescriptions", exact=True).click()
    card = page.locator("section.card", has_text=number)
    await expect(card).to_contain_text("Completed")
    await expect(card.locator("tbody tr")).to_contain_text("30")
    assert problems == []
    await context.close()


async def test_clerk_imports_a_csv_and_sees_the_job_complete_with_its_error_report(
    server: Server, browser: Browser
) -> None:
    base = server.base_url
    context, page, problems = await open_as(browser, base, CLERK)
    await page.get_by_role("link", name="Import records", exact=True).click()
    await page.get_by_label("CSV file", exact=True).set_input_files(
        files=[{"name": "visits.csv", "mimeType": "text/csv", "buffer": CSV.encode()}]
    )
    await page.get_by_role("button", name="Upload and import").click()
    await expect(page.get_by_text("File received: the import is running.")).to_be_visible()
    await expect(page.locator("[data-job-state]")).to_have_text(
        "Completed with errors", timeout=30_000
    )
    await expect(page.locator('[data-count="rows_inserted"]')).to_have_text("2")
    await expect(page.locator('[data-count="rows_rejected"]')).to_have_text("1")
    report_link = page.get_by_role("link", name="Download the error report (CSV)")
    await expect(report_link).to_be_visible()
    report = await page.request.get(f"{base}{await report_link.get_attribute('href')}")
    assert report.status == 200
    assert "IMP-3" in await report.text()
    job_url = page.url.split("?")[0]
    await page.get_by_role("link", name="Import records", exact=True).click()
    await expect(page.get_by_role("link", name="visits.csv")).to_be_visible()
    await assert_fits(page, [f"{base}/import", job_url])
    assert problems == []
    await context.close()
