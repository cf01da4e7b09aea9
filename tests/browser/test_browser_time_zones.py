"""Time zones in real Chromium: a booking made at 10:00 in America/Chicago reads 10:00 CST
wherever it appears (the schedule, the chart, the patient's own chart), and the clash
message names the practitioner and the slot. At 1280x900 and at 390x844."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import date

import httpx
import pytest
from playwright.async_api import Browser, Page, expect
from portal_server import (
    Account,
    Server,
    api_bearer,
    free_port,
    register_linked_patient,
    running_server,
    seed,
)
from test_browser_login import CHROMIUM, sign_in, watch_console
from tests.conftest import service_missing

ADMIN = Account(
    email="admin@prairie.example.org",
    password="nine kites above the dunes",
    display_name="Alex Admin",
    roles=("org_admin",),
)
CLERK = Account(
    email="desk@prairie.example.org",
    password="seven lanterns over the harbour",
    display_name="Casey Desk",
    roles=("clerk",),
)
DOCTOR = Account(
    email="dr.osei@prairie.example.org",
    password="a quiet orchard in late autumn",
    display_name="Dr Kwame Osei",
    roles=("doctor",),
)
PATIENT = Account(
    email="ines.moreau@example.org",
    password="blue herons fishing at dawn",
    display_name="Ines Moreau",
    roles=("patient",),
)
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# 12 January of next year: in the future, and on Central Standard Time (UTC-6).
DAY = date(date.today().year + 1, 1, 12)
SHOWN = f"12 Jan {DAY.year} 10:00 CST"
CLASH = (
    f"Dr Kwame Osei already has an appointment at 10:00 CST on 12 January {DAY.year} "
    "(until 10:30 CST)."
)
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if shutil.which(CHROMIUM) is None:
        service_missing("chromium not installed")
    home = tmp_path_factory.mktemp("portal-time-zones-home")
    port = free_port()
    seed(home, port, "Prairie Family Practice", [ADMIN, CLERK, DOCTOR, PATIENT])
    with running_server(home, port, home / "server.log") as running:
        yield running


def registered_patient(base_url: str) -> str:
    """The front desk registers the patient and links her account (through the API)."""
    with httpx.Client(base_url=base_url, timeout=30) as api:
        clerk = api_bearer(api, CLERK)
        return register_linked_patient(
            api,
            clerk,
            PATIENT,
            {
                "first_name": "Ines",
                "last_name": "Moreau",
                "date_of_birth": "1979-04-12",
                "gender": "female",
            },
        )


async def no_horizontal_scroll(page: Page, viewport: dict[str, int]) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], f"{page.url} is {width}px wide at {viewport['width']}px"


async def booking_form(page: Page, base: str, patient_id: str, start: str) -> None:
    await page.goto(f"{base}/patients/{patient_id}")
    await page.get_by_role("link", name="Book an appointment").click()
    await expect(page.get_by_text("Date and start time are in your time zone")).to_contain_text(
        "America/Chicago"
    )
    await page.get_by_label("Practitioner").select_option(label="Dr Kwame Osei")
    await page.get_by_label("Date").fill(DAY.isoformat())
    await page.get_by_label("Start time").fill(start)
    await page.get_by_role("button", name="Book appointment").click()


async def test_a_chicago_booking_reads_10_00_cst_everywhere_at_both_sizes(
    server: Server, browser: Browser
) -> None:
    base = server.base_url

    # The administrator sets the organization's zone on the Profile page; a typo is refused.
    context = await browser.new_context(viewport=DESKTOP)
    page = await context.new_page()
    problems = watch_console(page)
    await sign_in(page, base, ADMIN)
    await page.get_by_role("link", name="Profile").click()
    zone_field = page.get_by_label("Organization time zone")
    await zone_field.fill("America/Chicgo")
    await page.get_by_role("button", name="Save the organization's time zone").click()
    await expect(page.locator("#organization_time_zone-error")).to_contain_text(
        "“America/Chicgo” is not a time zone we know"
    )
    await expect(page.get_by_label("Organization time zone")).to_have_value("America/Chicgo")
    await page.get_by_label("Organization time zone").fill("America/Chicago")
    await page.get_by_role("button", name="Save the organization's time zone").click()
    await expect(page.get_by_text("The organization's time zone is saved.")).to_be_visible()
    await expect(page.get_by_test_id("viewer-zone")).to_have_text(
        re.compile(r"America/Chicago \(C[DS]T\)")
    )
    assert problems == []
    await context.close()

    patient_id = registered_patient(base)

    # The front desk books at 10:00 on its own (Chicago) clock; the chart shows 10:00 CST.
    context = await browser.new_context(viewport=DESKTOP)
    page = await context.new_page()
    problems = watch_console(page)
    await sign_in(page, base, CLERK)
    await expect(page).to_have_url(f"{base}/")
    await booking_form(page, base, patient_id, "10:00")
    await expect(page.get_by_text("Appointment booked.")).to_be_visible()
    await expect(page.get_by_role("cell", name=SHOWN, exact=True)).to_be_visible()

    # The schedule lists it at 10:00 CST and says which zone its times are in.
    await page.goto(f"{base}/appointments?start={DAY.isoformat()}&days=1")
    await expect(page.get_by_role("status")).to_contain_text("times in America/Chicago")
    await expect(page.get_by_role("cell", name=SHOWN, exact=True)).to_be_visible()

    # A second booking over the same slot names the practitioner and the slot, not an id.
    await booking_form(page, base, patient_id, "10:15")
    clash = page.locator("#clash")
    await expect(clash).to_contain_text(CLASH)
    assert not UUID.search(await clash.inner_text())
    assert problems == []
    await context.close()

    # The patient's own chart shows the same time, at phone width without sideways scrolling.
    for viewport in (DESKTOP, PHONE):
        context = await browser.new_context(viewport=viewport)
        page = await context.new_page()
        problems = watch_console(page)
        await sign_in(page, base, PATIENT)
        await page.goto(f"{base}/my-chart")
        await expect(page.get_by_text(SHOWN).first).to_be_visible()
        await no_horizontal_scroll(page, viewport)
        assert problems == []
        await context.close()

    # At phone width the staff pages show it the same way, and the clash reads the same.
    context = await browser.new_context(viewport=PHONE)
    page = await context.new_page()
    problems = watch_console(page)
    await sign_in(page, base, CLERK)
    await expect(page).to_have_url(f"{base}/")
    await page.goto(f"{base}/appointments?start={DAY.isoformat()}&days=1")
    await expect(page.get_by_text(SHOWN)).to_be_visible()
    await no_horizontal_scroll(page, PHONE)
    await page.goto(f"{base}/patients/{patient_id}")
    await expect(page.get_by_text(SHOWN).first).to_be_visible()
    await no_horizontal_scroll(page, PHONE)
    await booking_form(page, base, patient_id, "10:15")
    await expect(page.locator("#clash")).to_contain_text(CLASH)
    await no_horizontal_scroll(page, PHONE)
    await page.goto(f"{base}/profile")
    await expect(page.get_by_test_id("viewer-zone")).to_contain_text("America/Chicago")
    await no_horizontal_scroll(page, PHONE)
    assert problems == []
    await context.close()
