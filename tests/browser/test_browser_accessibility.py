"""axe-core on every portal page, for every role, at desktop and phone width.

One server holds a clinic (clerk, doctor, nurse, patient, administrator, reviewer)
and a pharmacy (pharmacist), with a patient, an appointment today, a record, a
submitted set of credentials and a prescription, so that pages show their rows.
Each role signs in and opens every page its menu leads to plus the detail pages
it works on; axe-core (npm, pinned in the Makefile) is injected into each and
any serious or critical violation fails the test, listed rule by rule. At 390 px
no page may be wider than the phone.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect
from portal_server import ROOT, Account, Server, api_bearer, free_port, running_server
from test_browser_login import CHROMIUM, CHROMIUM_ARGS, sign_in
from tests.conftest import service_missing
from tests.unit.filecheck.corpus import valid_pdf
from two_org_seed import seed_two_organizations

AXE_JS = ROOT / ".tools" / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
VIEWPORTS = (DESKTOP, PHONE)
BLOCKING = ("serious", "critical")


def account(email: str, name: str, role: str, password: str) -> Account:
    return Account(email=email, password=password, display_name=name, roles=(role,))


CLERK = account("desk@harbourview.example.org", "Casey Desk", "clerk", "tea lights in a row")
DOCTOR = account("dr.lind@harbourview.example.org", "Dr Maja Lind", "doctor", "gulls over a pier")
NURSE = account("nurse.ito@harbourview.example.org", "Ken Ito", "nurse", "rain on a tin roof")
ADMIN = account("admin@harbourview.example.org", "Alex Admin", "org_admin", "nine kites aloft")
REVIEWER = account(
    "review@harbourview.example.org", "Robin Review", "credentialing_reviewer", "copper kettles"
)
PATIENT = account("eva.brandt@example.org", "Eva Brandt", "patient", "herons at first light")
PHARMACIST = account(
    "chemist@quayside.example.org", "Sam Chemist", "pharmacist", "cinnamon jars up high"
)
CLINIC = [CLERK, DOCTOR, NURSE, ADMIN, REVIEWER, PATIENT]
EVERYONE = [*CLINIC, PHARMACIST]
NPI = "1234567893"  # a valid check digit
CATEGORIES = (
    "medical_license",
    "board_certification",
    "dea_registration",
    "curriculum_vitae",
    "malpractice_insurance",
)
VALID_DEA = "AB1234563"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@dataclass
class World:
    """What the seed created: detail pages each role opens besides its menu."""

    server: Server
    extra: dict[str, list[str]] = field(default_factory=dict)


def _credentials(api: httpx.Client, doctor: dict[str, str]) -> tuple[str, list[str]]:
    """The doctor's five documents (the licence expires in ten days); reference and ids."""
    today = date.today()
    profile = api.put(
        "/api/credentials/profile", json={"npi": NPI, "specialty": "cardiology"}, headers=doctor
    )
    assert profile.status_code == 200, profile.text
    entries: list[dict[str, str]] = []
    for category in CATEGORIES:
        entry = {
            "category": category,
            "issuing_authority": "State Medical Board",
            "issued_on": (today - timedelta(days=400)).isoformat(),
            "expires_on": (
                today + timedelta(days=10 if category == CATEGORIES[0] else 700)
            ).isoformat(),
            "document_number": VALID_DEA if category == "dea_registration" else "MD-448812",
        }
        if category == "curriculum_vitae":
            del entry["expires_on"], entry["document_number"]
        entries.append(entry)
    files = [
        ("files", (f"{category}.pdf", valid_pdf(pad_to=2000 + i), "application/pdf"))
        for i, category in enumerate(CATEGORIES)
    ]
    answer = api.post(
        "/api/credentials/submissions",
        data={"metadata": json.dumps(entries)},
        files=files,
        headers=doctor,
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    return str(body["reference"]), [str(doc["id"]) for doc in body["documents"]]


def populate(base_url: str) -> dict[str, list[str]]:
    """Rows for every page, through the API; returns the detail pages per role."""
    with httpx.Client(base_url=base_url, timeout=60) as api:
        clerk, doctor = api_bearer(api, CLERK), api_bearer(api, DOCTOR)
        created = api.post(
            "/api/patients/",
            json={
                "first_name": "Eva",
                "last_name": "Brandt",
                "date_of_birth": "1979-04-02",
                "gender": "female",
                "phone": "+1 312 555 0147",
                "allergies": "latex",
            },
            headers=clerk,
        )
        assert created.status_code == 201, created.text
        patient_id = str(created.json()["id"])
        me = api.get("/api/auth/profile", headers=api_bearer(api, PATIENT)).json()["id"]
        linked = api.post(
            f"/api/patients/{patient_id}/link-user", json={"user_id": me}, headers=clerk
        )
        assert linked.status_code == 200, linked.text
        doctor_id = api.get("/api/auth/profile", headers=doctor).json()["id"]
        starts = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=30)
        booked = api.post(
            "/api/appointments/",
            json={
                "patient_id": patient_id,
                "practitioner_id": doctor_id,
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(minutes=30)).isoformat(),
                "reason": "Blood pressure review",
            },
            headers=clerk,
        )
        assert booked.status_code == 201, booked.text
        record = api.post(
            "/api/records/",
            json={
                "patient_id": patient_id,
                "record_type": "consultation",
                "title": "Annual check-up",
                "content": "Blood pressure 128/82.",
                "priority": "normal",
            },
            headers=doctor,
        )
        assert record.status_code == 201, record.text
        reference, documents = _credentials(api, doctor)
        pharmacy = api.get("/api/pharmacies", params={"q": "quayside"}, headers=doctor).json()
        drafted = api.post(
            "/api/prescriptions/",
            json={
                "patient_id": patient_id,
                "pharmacy_id": pharmacy[0]["id"],
                "medication": {"name": "Amlodipine", "strength": "5 mg", "dose_form": "tablet"},
                "directions": "One tablet each morning.",
                "quantity": 30,
                "unit": "tablet",
                "days_supply": 30,
                "refills_allowed": 1,
            },
            headers=doctor,
        )
        assert drafted.status_code == 201, drafted.text
        rx_id = drafted.json()["id"]
        signed = api.post(f"/api/prescriptions/{rx_id}/sign", json={}, headers=doctor)
        assert signed.status_code == 200, signed.text
    chart, rx = f"/patients/{patient_id}", f"/prescriptions/{rx_id}"
    return {
        CLERK.email: [chart, "/patients/new", f"{chart}/appointments/new", "/notifications"],
        DOCTOR.email: [
            chart,
            f"{chart}/records/new",
            rx,
            f"/credentials/submissions/{reference}",
            f"/credentials/documents/{documents[0]}",
            "/notifications",
        ],
        NURSE.email: [chart, "/notifications"],
        ADMIN.email: [chart, "/users/new", "/notifications"],
        REVIEWER.email: [f"/credentials/documents/{documents[1]}", "/notifications"],
        PATIENT.email: [rx, "/notifications"],
        PHARMACIST.email: [rx, "/notifications"],
    }


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if shutil.which(CHROMIUM) is None:
        service_missing("chromium not installed")
    if not AXE_JS.is_file():
        service_missing(f"axe-core not installed at {AXE_JS}: run `make system-deps`")
    home = tmp_path_factory.mktemp("portal-a11y-home")
    port = free_port()
    seed_two_organizations(
        home,
        port,
        ("Harbourview Clinic", CLINIC),
        ("Quayside Pharmacy", "Portsmouth", [PHARMACIST]),
    )
    with running_server(home, port, home / "server.log") as running:
        yield running


@pytest.fixture(scope="module")
async def browser(server: Server) -> AsyncIterator[Browser]:
    """One Chromium for the whole module (the pages of all roles)."""
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture(scope="module")
def world(server: Server) -> World:
    return World(server=server, extra=populate(server.base_url))


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Serious and critical violations axe-core finds on the page as it is now."""
    await page.add_script_tag(path=str(AXE_JS))
    found: list[dict[str, Any]] = await page.evaluate(
        """async (blocking) => {
            const result = await axe.run(document, {resultTypes: ['violations']});
            return result.violations
              .filter(v => blocking.includes(v.impact))
              .map(v => ({id: v.id, impact: v.impact, help: v.help,
                          targets: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
        }""",
        list(BLOCKING),
    )
    return found


async def menu_pages(page: Page) -> list[str]:
    links: list[str] = await page.locator("nav.site-nav a[href^='/']").evaluate_all(
        "links => links.map(link => link.getAttribute('href'))"
    )
    return links


def report(problems: list[str]) -> str:
    return "axe-core found serious or critical violations:\n" + "\n".join(problems)


async def check(page: Page, where: str, viewport: dict[str, int]) -> list[str]:
    """axe-core's blocking findings on the open page, and its overflow at phone width."""
    problems = [
        f"{where} at {viewport['width']} px: {violation['impact']} {violation['id']}"
        f" ({violation['help']}) at {violation['targets']}"
        for violation in await axe_violations(page)
    ]
    if viewport is PHONE:
        width = await page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            problems.append(f"{where} at 390 px: the page is {width} px wide")
    return problems


async def test_signed_out_pages_pass_axe(server: Server, browser: Browser) -> None:
    problems: list[str] = []
    for viewport in VIEWPORTS:
        context = await browser.new_context(viewport=viewport, bypass_csp=True)  # type: ignore[arg-type]
        page = await context.new_page()
        for path in ("/login", "/no-such-page"):
            await page.goto(f"{server.base_url}{path}")
            problems += await check(page, f"signed out {path}", viewport)
        await context.close()
    assert problems == [], report(problems)


@pytest.mark.parametrize("who", EVERYONE, ids=[who.roles[0] for who in EVERYONE])
async def test_every_page_of_a_role_passes_axe(
    world: World, browser: Browser, who: Account
) -> None:
    """The role's menu and the detail pages it works on, at both widths."""
    base = world.server.base_url
    problems: list[str] = []
    checked = 0
    for viewport in VIEWPORTS:
        context = await browser.new_context(viewport=viewport, bypass_csp=True)  # type: ignore[arg-type]
        page = await context.new_page()
        await sign_in(page, base, who)
        await expect(page).to_have_url(f"{base}/")
        if viewport is DESKTOP:
            assert await lines_of(page, ".sign-out button") == 1, "'Sign out' wraps at 1280 px"
        paths = list(dict.fromkeys(["/", *await menu_pages(page), *world.extra[who.email]]))
        for path in paths:
            answer = await page.goto(f"{base}{path}")
            assert answer is not None
            assert answer.status < 400, f"{who.roles[0]} {path}: {answer.status}"
            problems += await check(page, f"{who.roles[0]} {path}", viewport)
            checked += 1
            if path.startswith("/credentials/documents/"):
                # The PDF preview has a visible download beside it (phones show no PDF frame).
                await expect(page.get_by_role("link", name="Download the PDF")).to_be_visible()
        await context.close()
    assert checked >= 2 * 4
    assert problems == [], report(problems)


async def lines_of(page: Page, selector: str) -> int:
    """How many lines the element's text takes."""
    count: int = await page.locator(selector).evaluate(
        """element => {
            const range = document.createRange();
            range.selectNodeContents(element);
            return new Set([...range.getClientRects()].map(rect => Math.round(rect.top))).size;
        }"""
    )
    return count


async def test_invalid_fields_are_marked_by_more_than_colour(
    world: World, browser: Browser
) -> None:
    """A refused form: each invalid input has aria-invalid, a thick edge and an error
    text that starts with a warning sign; the page with its errors passes axe."""
    base = world.server.base_url
    context = await browser.new_context(viewport=PHONE, bypass_csp=True)  # type: ignore[arg-type]
    page = await context.new_page()
    await sign_in(page, base, CLERK)
    await expect(page).to_have_url(f"{base}/")
    await page.goto(f"{base}/patients/new")
    await page.locator("form[action='/patients/new']").evaluate("form => form.noValidate = true")
    await page.locator("form[action='/patients/new'] button[type='submit']").click()
    invalid = page.locator("[aria-invalid='true']")
    await expect(invalid.first).to_be_visible()
    edges = await invalid.evaluate_all(
        "fields => fields.map(field => getComputedStyle(field).borderLeftWidth)"
    )
    assert edges
    assert set(edges) == {"6px"}
    described = await invalid.first.get_attribute("aria-describedby")
    assert described is not None
    error = page.locator(f"#{described.split()[-1]}")
    sign = await error.evaluate("element => getComputedStyle(element, '::before').content")
    assert "\u26a0" in sign
    assert await check(page, "clerk refused /patients/new", PHONE) == []
    await context.close()


def test_axe_is_the_pinned_version() -> None:
    """The Makefile's pin is what the check runs (a different axe finds different things)."""
    makefile = (ROOT / "Makefile").read_text()
    pinned = next(
        line.split(":=")[1].strip() for line in makefile.splitlines() if "AXE_VERSION" in line
    )
    if not AXE_JS.is_file():
        service_missing(f"axe-core not installed at {AXE_JS}: run `make system-deps`")
    installed = json.loads((AXE_JS.parent / "package.json").read_text())["version"]
    assert installed == pinned
