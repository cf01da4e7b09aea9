"""Patient self-service in real Chromium, at 1280x900 and at 390x844.

A patient sees their practitioners by name, requests an appointment that a
clerk confirms, cancels another one after a confirmation step, downloads
their record as FHIR JSON and opens the report of who opened their chart.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect
from portal_server import Account, Server, api_bearer, free_port, running_server, seed
from test_browser_login import CHROMIUM, sign_in, watch_console
from tests.conftest import service_missing

CLERK = Account(
    email="desk@harbourside.example.org",
    password="seven lanterns over the harbour",
    display_name="Casey Desk",
    roles=("clerk",),
)
DOCTOR = Account(
    email="dr.osei@harbourside.example.org",
    password="a quiet orchard in late autumn",
    display_name="Dr Kwame Osei",
    roles=("doctor",),
)
NURSE = Account(
    email="nurse.lind@harbourside.example.org",
    password="wooden boats on a still lake",
    display_name="Nurse Maja Lind",
    roles=("nurse",),
)
PATIENT = Account(
    email="ines.moreau@example.org",
    password="blue herons fishing at dawn",
    display_name="Ines Moreau",
    roles=("patient",),
)
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if shutil.which(CHROMIUM) is None:
        service_missing("chromium not installed")
    home = tmp_path_factory.mktemp("portal-self-service-home")
    port = free_port()
    seed(home, port, "Harbourside Clinic", [CLERK, DOCTOR, NURSE, PATIENT])
    with running_server(home, port, home / "server.log") as running:
        yield running


def prepare_chart(base_url: str) -> tuple[str, str]:
    """Through the API: the patient's chart, linked to their account, with two bookings
    with the doctor; the doctor reads the chart. Returns (patient id, later booking id)."""
    with httpx.Client(base_url=base_url, timeout=30) as api:
        clerk, doctor, patient = (api_bearer(api, a) for a in (CLERK, DOCTOR, PATIENT))
        created = api.post(
            "/api/patients/",
            json={
                "first_name": "Ines",
                "last_name": "Moreau",
                "date_of_birth": "1979-04-12",
                "gender": "female",
            },
            headers=clerk,
        )
        assert created.status_code == 201, created.text
        patient_id = str(created.json()["id"])
        me = api.get("/api/auth/profile", headers=patient).json()["id"]
        linked = api.post(
            f"/api/patients/{patient_id}/link-user", json={"user_id": me}, headers=clerk
        )
        assert linked.status_code == 200, linked.text
        doctor_id = api.get("/api/auth/profile", headers=doctor).json()["id"]
        day = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0)
        booked = []
        for days, reason in ((3, "Blood pressure review"), (9, "Vaccination")):
            starts = day + timedelta(days=days)
            answer = api.post(
                "/api/appointments/",
                json={
                    "patient_id": patient_id,
                    "practitioner_id": doctor_id,
                    "starts_at": starts.isoformat(),
                    "ends_at": (starts + timedelta(minutes=20)).isoformat(),
                    "reason": reason,
                },
                headers=clerk,
            )
            assert answer.status_code == 201, answer.text
            booked.append(str(answer.json()["id"]))
        assert api.get(f"/api/patients/{patient_id}", headers=doctor).status_code == 200
        return patient_id, booked[0]


async def new_page(
    browser: Browser, viewport: dict[str, int]
) -> tuple[BrowserContext, Page, list[str]]:
    context = await browser.new_context(viewport=viewport, accept_downloads=True)  # type: ignore[arg-type]
    page = await context.new_page()
    problems = watch_console(page)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return context, page, problems


async def fits(page: Page, viewport: dict[str, int]) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], f"{page.url}: {width} px wide"


async def test_a_patient_serves_themselves_on_desktop_and_phone(
    server: Server, browser: Browser, tmp_path: Path
) -> None:
    base = server.base_url
    patient_id, later = prepare_chart(base)
    wanted_day = (datetime.now(UTC) + timedelta(days=6)).date().isoformat()

    # Desktop: names instead of ids, and a request in a preferred window.
    context, page, problems = await new_page(browser, DESKTOP)
    await sign_in(page, base, PATIENT)
    await page.get_by_role("link", name="My chart", exact=True).click()
    await expect(page).to_have_url(f"{base}/my-chart")
    upcoming = page.locator(
        "section", has=page.get_by_role("heading", name="Upcoming appointments")
    )
    await expect(upcoming.get_by_role("cell", name="Dr Kwame Osei")).to_have_count(2)
    await expect(page.get_by_text("Practitioner ")).to_have_count(0)
    await fits(page, DESKTOP)
    await page.get_by_role("link", name="Request an appointment").click()
    await page.get_by_label("Doctor or nurse").select_option(label="Nurse Maja Lind")
    await page.get_by_label("Day").fill(wanted_day)
    await page.get_by_label("Earliest start").fill("09:00")
    await page.get_by_label("Latest start").fill("11:00")
    await page.get_by_label("Reason (optional)").fill("Travel vaccines")
    await page.get_by_role("button", name="Send request").click()
    await expect(page.get_by_text("Request sent.")).to_be_visible()
    await expect(
        page.get_by_role("heading", name="Waiting for the clinic to confirm")
    ).to_be_visible()
    assert problems == []
    await context.close()

    # Phone: the clerk confirms the request.
    context, page, problems = await new_page(browser, PHONE)
    await sign_in(page, base, CLERK)
    await page.goto(f"{base}/appointments/requests")
    await expect(page.get_by_role("heading", name="Moreau, Ines")).to_be_visible()
    await fits(page, PHONE)
    await page.get_by_role("button", name="Confirm the request of Moreau, Ines").click()
    await expect(page.get_by_text("Request confirmed")).to_be_visible()
    await expect(page.get_by_text("No requests waiting.")).to_be_visible()
    assert problems == []
    await context.close()

    # Phone: the patient cancels another appointment, downloads, opens the access report.
    context, page, problems = await new_page(browser, PHONE)
    await sign_in(page, base, PATIENT)
    await page.goto(f"{base}/my-chart")
    await expect(
        page.get_by_role("heading", name="Waiting for the clinic to confirm")
    ).to_have_count(0)
    await expect(page.get_by_role("cell", name="Nurse Maja Lind")).to_be_visible()
    await fits(page, PHONE)
    await page.locator(f"a[href='/my-chart/appointments/{later}/cancel']").click()
    await expect(page.get_by_role("heading", name="Cancel this appointment?")).to_be_visible()
    await fits(page, PHONE)
    await page.get_by_role("button", name="Yes, cancel the appointment").click()
    await expect(page.get_by_text("Appointment cancelled.")).to_be_visible()
    past = page.locator(
        "section", has=page.get_by_role("heading", name="Past and cancelled appointments")
    )
    await expect(past.get_by_role("cell", name="Cancelled by you")).to_be_visible()

    async with page.expect_download() as waiting:
        await page.get_by_role("link", name="Download my record (FHIR JSON)").click()
    download = await waiting.value
    saved = tmp_path / "record.json"
    await download.save_as(saved)
    bundle = json.loads(saved.read_text())
    assert bundle["resourceType"] == "Bundle"
    kinds = [entry["resource"]["resourceType"] for entry in bundle["entry"]]
    assert kinds.count("Patient") == 1
    assert kinds.count("Appointment") == 3
    assert bundle["entry"][0]["resource"]["id"] == patient_id

    await page.get_by_role("link", name="Who opened my chart").click()
    await expect(page.get_by_role("heading", name="Who opened my chart")).to_be_visible()
    report = page.locator("table")
    doctor = report.get_by_role("row").filter(has_text="Dr Kwame Osei").first
    await expect(doctor).to_contain_text("Doctor, Harbourside Clinic")
    await expect(doctor.get_by_role("cell", name="Read your details")).to_be_visible()
    await expect(report.get_by_text("Ines Moreau")).to_have_count(0)
    await fits(page, PHONE)
    assert problems == []
    await context.close()
