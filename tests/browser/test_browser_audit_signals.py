"""The audit viewer in real Chromium: a member found by name, a chart with axes, and the
one-click "Who opened this chart" from a patient's chart, at desk and phone sizes."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import httpx
import pytest
from playwright.async_api import Browser, Page, expect
from portal_server import Account, Server, free_port, running_server, seed
from test_browser_login import CHROMIUM, sign_in, watch_console
from tests.conftest import service_missing

ADMIN = Account(
    email="admin@harbour.example.org",
    password="nine kites above the dunes",
    display_name="Alex Admin",
    roles=("org_admin",),
)
DOCTOR = Account(
    email="kwame.osei@harbour.example.org",
    password="a quiet orchard in late autumn",
    display_name="Dr Kwame Osei",
    roles=("doctor",),
)
CLERK = Account(
    email="desk@harbour.example.org",
    password="seven lanterns over the harbour",
    display_name="Casey Desk",
    roles=("clerk",),
)
DESK = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if shutil.which(CHROMIUM) is None:
        service_missing("chromium not installed")
    home = tmp_path_factory.mktemp("portal-audit-home")
    port = free_port()
    seed(home, port, "Harbour Street Clinic", [ADMIN, DOCTOR, CLERK])
    with running_server(home, port, home / "server.log") as running:
        yield running


def register_patient(base_url: str) -> str:
    """The front desk registers a patient through the API; returns the patient's id."""
    with httpx.Client(base_url=base_url, timeout=30) as api:
        signed = api.post(
            "/api/auth/login", json={"username": CLERK.email, "password": CLERK.password}
        )
        assert signed.status_code == 200, signed.text
        created = api.post(
            "/api/patients/",
            json={
                "first_name": "Ines",
                "last_name": "Moreau",
                "date_of_birth": "1979-04-12",
                "gender": "female",
            },
            headers={"authorization": f"Bearer {signed.json()['access_token']}"},
        )
        assert created.status_code == 201, created.text
        return str(created.json()["id"])


async def scroll_width(page: Page) -> int:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert isinstance(width, int)
    return width


async def test_audit_viewer_by_name_with_axes_and_from_a_chart(
    server: Server, browser: Browser
) -> None:
    base = server.base_url
    patient_id = register_patient(base)
    reference = "P-" + patient_id.replace("-", "")[-8:].upper()

    context = await browser.new_context(viewport=DESK)  # type: ignore[arg-type]
    page = await context.new_page()
    problems = watch_console(page)
    await sign_in(page, base, DOCTOR)
    await expect(page).to_have_url(f"{base}/")
    await page.goto(f"{base}/patients/{patient_id}")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Ines Moreau")
    await expect(page.get_by_role("link", name="Who opened this chart")).to_have_count(0)
    await context.close()

    for viewport in (DESK, PHONE):
        context = await browser.new_context(viewport=viewport)  # type: ignore[arg-type]
        page = await context.new_page()
        problems += watch_console(page)
        await sign_in(page, base, ADMIN)
        await expect(page).to_have_url(f"{base}/")

        # One click from the chart to the events about this patient.
        await page.goto(f"{base}/patients/{patient_id}")
        assert await scroll_width(page) <= viewport["width"]
        await page.get_by_role("link", name="Who opened this chart").click()
        await expect(page).to_have_url(
            f"{base}/audit?resource_type=patient&resource_id={patient_id}"
        )
        await expect(page.get_by_text("Showing only the events about patient")).to_be_visible()
        doctor_opened = f"Dr Kwame Osei opened the chart of patient {reference}"
        await expect(page.get_by_text(doctor_opened)).to_be_visible()
        await expect(
            page.get_by_text(f"Alex Admin opened the chart of patient {reference}").first
        ).to_be_visible()
        assert await scroll_width(page) <= viewport["width"]

        # The actor filter takes a name, not an id.
        await page.goto(f"{base}/audit")
        await page.get_by_label("Who (name or email)").fill("osei")
        await page.get_by_role("button", name="Filter").click()
        await expect(page.locator("#actor-matches")).to_contain_text(
            "Events of 1 member matching “osei”: Dr Kwame Osei (kwame.osei@harbour.example.org)"
        )
        await expect(page.get_by_text(doctor_opened)).to_be_visible()
        await expect(page.get_by_text("Dr Kwame Osei signed in").first).to_be_visible()
        events = page.locator("table.audit-events")
        await expect(events.get_by_text("Dr Kwame Osei signed in").first).to_be_visible()
        await expect(events.get_by_text("Casey Desk", exact=False)).to_have_count(0)
        assert await scroll_width(page) <= viewport["width"]

        # The chart has two titled axes with ticks, a description, and a table fallback.
        chart = page.get_by_role("img", name="Audit events per hour (UTC)")
        await expect(chart).to_be_visible()
        await expect(chart.locator("text.activity-chart__axis-title")).to_have_text(
            ["Time (UTC, hour starting)", "Events per hour"]
        )
        assert await chart.locator("text.activity-chart__tick").count() >= 4
        frame = await page.locator(".chart-wrap").bounding_box()  # a phone scrolls the chart
        assert frame is not None
        assert frame["width"] <= viewport["width"]
        await page.get_by_text("Activity per hour as a table").click()
        table = page.locator("details.activity-table table")
        await expect(table).to_be_visible()
        assert await table.locator("tbody tr").count() >= 1
        assert await scroll_width(page) <= viewport["width"]

        # A name that matches nobody is said next to the field, which keeps the value.
        await page.get_by_label("Who (name or email)").fill("Nobody Here")
        await page.get_by_role("button", name="Filter").click()
        await expect(page.locator("#actor-error")).to_contain_text("No member's name or email")
        await expect(page.get_by_label("Who (name or email)")).to_have_value("Nobody Here")
        await context.close()
    assert problems == []
