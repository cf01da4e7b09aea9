"""Records in real Chromium: a clerk registers, a doctor adds a record, the patient sees it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect
from portal_server import Account, Server, free_port, running_server, seed
from test_browser_login import CHROMIUM, sign_in, watch_console
from tests.conftest import service_missing

CLERK = Account(
    email="desk@lakeside.example.org",
    password="seven lanterns over the harbour",
    display_name="Casey Desk",
    roles=("clerk",),
)
DOCTOR = Account(
    email="dr.osei@lakeside.example.org",
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
ADMIN = Account(
    email="admin@lakeside.example.org",
    password="nine kites above the dunes",
    display_name="Alex Admin",
    roles=("org_admin",),
)
REVIEWER = Account(
    email="review@lakeside.example.org",
    password="copper kettles on a cold morning",
    display_name="Robin Review",
    roles=("credentialing_reviewer",),
)
RECORD_TITLE = "Lipid panel <fasting>"
PHONE = {"width": 390, "height": 844}

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if shutil.which(CHROMIUM) is None:
        service_missing("chromium not installed")
    home = tmp_path_factory.mktemp("portal-records-home")
    port = free_port()
    seed(home, port, "Lakeside Family Practice", [CLERK, DOCTOR, PATIENT, ADMIN, REVIEWER])
    with running_server(home, port, home / "server.log") as running:
        yield running


async def watched_page(browser: Browser) -> tuple[BrowserContext, Page, list[str]]:
    context = await browser.new_context()
    page = await context.new_page()
    problems = watch_console(page)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("response", lambda r: problems.append(f"404 {r.url}") if r.status == 404 else None)
    return context, page, problems


def link_patient_account(base_url: str, patient_id: str) -> None:
    """The front desk links the patient's own account to the chart (through the API)."""
    with httpx.Client(base_url=base_url, timeout=30) as api:

        def token(account: Account) -> str:
            answer = api.post(
                "/api/auth/login", json={"username": account.email, "password": account.password}
            )
            assert answer.status_code == 200, answer.text
            return str(answer.json()["access_token"])

        patient_token = token(PATIENT)
        profile = api.get("/api/auth/profile", headers={"authorization": f"Bearer {patient_token}"})
        linked = api.post(
            f"/api/patients/{patient_id}/link-user",
            json={"user_id": profile.json()["id"]},
            headers={"authorization": f"Bearer {token(CLERK)}"},
        )
        assert linked.status_code == 200, linked.text


async def test_clerk_registers_doctor_records_and_patient_sees_it(
    server: Server, browser: Browser
) -> None:
    base = server.base_url

    context, page, problems = await watched_page(browser)
    await sign_in(page, base, CLERK)
    await expect(page).to_have_url(f"{base}/")
    await page.get_by_role("link", name="Patients", exact=True).click()
    await page.get_by_role("link", name="Register a patient").click()
    await page.get_by_label("First name").fill("<script>alert(1)</script>Ines")
    await page.get_by_label("Date of birth").fill("1979-04-12")
    await page.get_by_label("Gender").select_option("female")
    await page.get_by_label("Phone (optional)").fill("(555) 010-0142")
    await page.get_by_role("button", name="Register patient").click()
    await expect(page.locator("#last_name-error")).to_have_text("Enter the last name.")
    await expect(page.get_by_label("Last name")).to_be_focused()
    await page.get_by_label("Last name").fill("Moreau")
    await page.get_by_role("button", name="Register patient").click()
    await expect(page.get_by_text("Patient registered.")).to_be_visible()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "<script>alert(1)</script>Ines Moreau"
    )
    await expect(page.get_by_text("+15550100142")).to_be_visible()
    patient_id = page.url.split("/patients/")[1].split("?")[0]
    assert problems == []
    await context.close()

    link_patient_account(base, patient_id)

    context, page, problems = await watched_page(browser)
    await sign_in(page, base, DOCTOR)
    await page.get_by_role("link", name="Patients", exact=True).click()
    await page.get_by_label("Find a patient").fill("more")
    await page.get_by_role("button", name="Search").click()
    await page.get_by_role("link", name="Moreau, <script>alert(1)</script>Ines").click()
    await page.get_by_role("link", name="Add a record").click()
    await page.get_by_label("Type").select_option("lab_result")
    await page.get_by_label("Priority").select_option("high")
    await page.get_by_label("Title").fill(RECORD_TITLE)
    await page.get_by_label("Content").fill("LDL 3.1 mmol/L. Diet advice given.")
    await page.get_by_role("button", name="Save record").click()
    await expect(page.get_by_text("Record added to the chart.")).to_be_visible()
    await expect(page.get_by_role("heading", name=RECORD_TITLE)).to_be_visible()
    assert problems == []
    await context.close()

    context, page, problems = await watched_page(browser)
    await sign_in(page, base, PATIENT)
    await page.get_by_role("link", name="My chart", exact=True).click()
    await expect(page).to_have_url(f"{base}/my-chart")
    await expect(page.get_by_role("heading", name=RECORD_TITLE)).to_be_visible()
    await expect(page.get_by_text("LDL 3.1 mmol/L. Diet advice given.")).to_be_visible()
    await expect(page.get_by_role("link", name="Patients", exact=True)).to_have_count(0)
    other = await page.goto(f"{base}/patients")
    assert other is not None
    assert other.status == 200
    await expect(page.get_by_text("1 patient")).to_be_visible()
    assert problems == []
    await context.close()


async def test_no_page_in_any_roles_menu_is_wider_than_a_phone(
    server: Server, browser: Browser
) -> None:
    """At 390 px every page a role's menu leads to, and a chart, fits: tables scroll in
    their own frame. Runs after the journey above, so lists and the chart hold rows."""
    base = server.base_url
    for account in (CLERK, DOCTOR, PATIENT, ADMIN, REVIEWER):
        context = await browser.new_context(viewport=PHONE)  # type: ignore[arg-type]
        page = await context.new_page()
        await sign_in(page, base, account)
        await expect(page).to_have_url(f"{base}/")
        links = await page.locator("nav.site-nav a[href^='/']").evaluate_all(
            "links => links.map(link => link.getAttribute('href'))"
        )
        visited = list(dict.fromkeys(["/", *links]))
        if account is DOCTOR:
            await page.goto(f"{base}/patients")
            chart = await page.locator("table a[href^='/patients/']").first.get_attribute("href")
            assert chart is not None
            visited.append(chart)
        for path in visited:
            await page.goto(f"{base}{path}")
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"{account.roles[0]} {path}: {width} px wide"
        assert len(visited) >= 3
        await context.close()
