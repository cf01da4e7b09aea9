"""Staff changing what they see, in real Chromium at 1280x900 and at phone width 390x844:
a duplicate warning, demographics, a record amendment, rescheduling and cancelling with
a reason, and a follow-up booking."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect
from portal_server import Account, Server, free_port, running_server, seed
from test_browser_login import CHROMIUM, sign_in, watch_console
from tests.conftest import service_missing

CLERK = Account(
    email="frontdesk@harbourside.example.org",
    password="gulls circling the old pier",
    display_name="Sam Frontdesk",
    roles=("clerk",),
)
DOCTOR = Account(
    email="dr.adeyemi@harbourside.example.org",
    password="lanterns on the evening ferry",
    display_name="Dr Tola Adeyemi",
    roles=("doctor",),
)
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if shutil.which(CHROMIUM) is None:
        service_missing("chromium not installed")
    home = tmp_path_factory.mktemp("portal-staff-edits-home")
    port = free_port()
    seed(home, port, "Harbourside Clinic", [CLERK, DOCTOR])
    with running_server(home, port, home / "server.log") as running:
        yield running


async def open_page(
    browser: Browser, base: str, account: Account, viewport: dict[str, int]
) -> tuple[BrowserContext, Page, list[str]]:
    context = await browser.new_context(viewport=viewport)  # type: ignore[arg-type]
    page = await context.new_page()
    problems = watch_console(page)
    page.on("pageerror", lambda error: problems.append(str(error)))
    await sign_in(page, base, account)
    await expect(page).to_have_url(f"{base}/")
    return context, page, problems


def book_by_api(base: str, patient_id: str, hours: int) -> str:
    """An appointment with the doctor `hours` from now, booked by the front desk."""
    with httpx.Client(base_url=base, timeout=30) as api:

        def token(account: Account) -> str:
            answer = api.post(
                "/api/auth/login", json={"username": account.email, "password": account.password}
            )
            assert answer.status_code == 200, answer.text
            return str(answer.json()["access_token"])

        doctor = api.get(
            "/api/auth/profile", headers={"authorization": f"Bearer {token(DOCTOR)}"}
        ).json()["id"]
        starts = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        starts += timedelta(hours=hours)
        booked = api.post(
            "/api/appointments/",
            json={
                "patient_id": patient_id,
                "practitioner_id": doctor,
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(minutes=30)).isoformat(),
                "reason": "Review",
            },
            headers={"authorization": f"Bearer {token(CLERK)}"},
        )
        assert booked.status_code == 201, booked.text
        return str(booked.json()["id"])


async def fits_a_phone(page: Page, base: str, path: str) -> None:
    await page.goto(f"{base}{path}")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{path}: {width} px wide"


async def test_staff_amend_edit_reschedule_cancel_and_follow_up(
    server: Server, browser: Browser
) -> None:
    base = server.base_url

    # The front desk registers a patient, then is warned before registering her again.
    context, page, problems = await open_page(browser, base, CLERK, DESKTOP)
    await page.goto(f"{base}/patients/new")
    await expect(page.locator("label[for=first_name]")).to_contain_text("(required)")
    await page.get_by_label("First name").fill("Yetunde")
    await page.get_by_label("Last name").fill("Bakare")
    await page.get_by_label("Date of birth").fill("1968-11-03")
    await page.get_by_label("Gender").select_option("female")
    await page.get_by_label("Phone").fill("(555) 010-0166")
    await page.get_by_role("button", name="Register patient").click()
    await expect(page.get_by_text("Patient registered.")).to_be_visible()
    chart = page.url.split("?")[0]
    patient_id = chart.rsplit("/", 1)[1]

    await page.goto(f"{base}/patients/new")
    await page.get_by_label("First name").fill("yetunde")
    await page.get_by_label("Last name").fill("BAKARE")
    await page.get_by_label("Date of birth").fill("1968-11-03")
    await page.get_by_label("Gender").select_option("female")
    await page.get_by_role("button", name="Register patient").click()
    warning = page.locator("#duplicates")
    await expect(warning).to_contain_text("This patient may already be registered")
    await expect(warning).to_contain_text("same name and date of birth")
    await expect(page.get_by_label("Register anyway: this is a different person")).to_be_visible()
    await expect(page.get_by_label("Last name")).to_have_value("BAKARE")
    await warning.get_by_role("link", name="Bakare, Yetunde").click()
    await expect(page).to_have_url(chart)

    # Demographics: a problem is shown in words next to its field, typed values stay.
    await page.get_by_role("link", name="Edit details").click()
    await page.get_by_label("First name").fill("")
    await page.get_by_label("Address").fill("4 Quay Street")
    await page.get_by_role("button", name="Save changes").click()
    await expect(page.locator("#first_name-error")).to_have_text("Enter the first name.")
    await expect(page.get_by_label("Address")).to_have_value("4 Quay Street")
    await expect(page.get_by_label("First name")).to_be_focused()
    await page.get_by_label("First name").fill("Yetunde")
    await page.get_by_role("button", name="Save changes").click()
    await expect(page.get_by_text("Patient details saved.")).to_be_visible()
    await expect(page.get_by_text("4 Quay Street")).to_be_visible()
    assert problems == []
    await context.close()

    # The doctor writes a record and amends it: both versions and the change are shown.
    context, page, problems = await open_page(browser, base, DOCTOR, DESKTOP)
    await page.goto(chart)
    await page.get_by_role("link", name="Add a record").click()
    await page.get_by_label("Type").select_option("consultation")
    await page.get_by_label("Title").fill("Shoulder pain")
    await page.get_by_label("Content").fill("Pain lifting the arm.\nNo numbness.")
    await page.get_by_role("button", name="Save record").click()
    await page.get_by_role("link", name="Shoulder pain").click()
    await page.get_by_role("link", name="Amend this record").click()
    await page.get_by_label("Title").fill("Right shoulder pain")
    await page.get_by_label("Content").fill("Pain lifting the arm.\nTingling in two fingers.")
    await page.get_by_role("button", name="Save amendment").click()
    await expect(page.get_by_text("Amendment saved.")).to_be_visible()
    await expect(page.get_by_role("heading", name="Version 2 (current)")).to_be_visible()
    await expect(page.get_by_role("heading", name="Version 1 (original)")).to_be_visible()
    await expect(page.locator("del", has_text="Shoulder pain").first).to_be_visible()
    await expect(page.locator("ins.diff-line--added")).to_contain_text("Tingling in two fingers.")
    await expect(page.locator("del.diff-line--removed")).to_contain_text("No numbness.")
    record_path = page.url.removeprefix(base).split("?")[0]
    assert problems == []
    await context.close()

    # The front desk moves the appointment (with a confirmation), then cancels it.
    appointment_id = book_by_api(base, patient_id, hours=50)
    context, page, problems = await open_page(browser, base, CLERK, DESKTOP)
    await page.goto(chart)
    await page.get_by_role("link", name=re.compile("^Reschedule")).click()
    day = (datetime.now(UTC) + timedelta(days=6)).date().isoformat()
    await page.get_by_label("Date").fill(day)
    await page.get_by_label("Start time").fill("11:30")
    await page.get_by_role("button", name="Review the change").click()
    await expect(page.locator("#why-error")).to_contain_text("Say why the appointment is moved")
    await expect(page.get_by_label("Start time")).to_have_value("11:30")
    await page.get_by_label("Why is it moved?").fill("Doctor at a conference")
    await page.get_by_role("button", name="Review the change").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Move the appointment")
    confirm_path = page.url.removeprefix(base)
    await page.get_by_role("button", name="Confirm the new time").click()
    await expect(page.get_by_text("Appointment rescheduled.")).to_be_visible()
    await expect(page.locator("table")).to_contain_text("11:30")

    await page.get_by_role("link", name=re.compile("^Cancel the appointment of")).click()
    await expect(page.get_by_role("heading", name="Cancel this appointment?")).to_be_visible()
    await page.get_by_role("button", name="Cancel the appointment").click()
    await expect(page.locator("#why-error")).to_contain_text("Say why the appointment is cancelled")
    await page.get_by_label("Why is it cancelled?").fill("Patient asked by phone")
    await page.get_by_role("button", name="Cancel the appointment").click()
    await expect(page.get_by_text("Appointment cancelled.")).to_be_visible()
    await expect(page.locator("tr.is-cancelled")).to_have_count(1)

    # A follow-up: the booking form with the patient and the practitioner filled in.
    await page.get_by_role("link", name="Book a follow-up", exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Yetunde Bakare")
    await expect(page.get_by_label("Practitioner")).to_have_value(re.compile(".+"))
    await expect(page.get_by_label("Reason")).to_have_value("Follow-up")
    await page.get_by_label("Start time").fill("09:00")
    await page.get_by_role("button", name="Book appointment").click()
    await expect(page.get_by_text("Appointment booked.")).to_be_visible()
    assert problems == []
    await context.close()

    # Every new page fits a phone.
    later = book_by_api(base, patient_id, hours=80)
    context, page, _ = await open_page(browser, base, CLERK, PHONE)
    for path in (
        f"/patients/{patient_id}",
        f"/patients/{patient_id}/edit",
        f"/patients/{patient_id}/account",
        f"/appointments/{later}/reschedule",
        f"/appointments/{later}/cancel",
        f"/appointments/{appointment_id}/cancel",
        f"/patients/{patient_id}/follow-up",
    ):
        await fits_a_phone(page, base, path)
    await page.goto(f"{base}/appointments/{later}/reschedule")
    await page.get_by_label("Why is it moved?").fill("Room closed")
    await page.get_by_role("button", name="Review the change").click()
    await expect(page).to_have_url(f"{base}{confirm_path.replace(appointment_id, later)}")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"reschedule confirmation: {width} px wide"
    await page.goto(f"{base}/patients/new")
    await page.get_by_label("First name").fill("Yetunde")
    await page.get_by_label("Last name").fill("Bakare")
    await page.get_by_label("Date of birth").fill("1968-11-03")
    await page.get_by_label("Gender").select_option("female")
    await page.get_by_role("button", name="Register patient").click()
    await expect(page.locator("#duplicates")).to_be_visible()
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"duplicate warning: {width} px wide"
    await context.close()

    context, page, _ = await open_page(browser, base, DOCTOR, PHONE)
    for path in (record_path, record_path + "/amend", f"/patients/{patient_id}/edit"):
        await fits_a_phone(page, base, path)
    await context.close()
