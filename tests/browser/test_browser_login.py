"""The portal in real Chromium: sign in, enrol two-factor, sign in again with a code."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, expect
from portal_server import Account, Server, free_port, running_server, seed
from tests.conftest import service_missing

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

DOCTOR = Account(
    email="dr.grace@example.org",
    password="a quiet orchard in late autumn",
    display_name="Dr Grace Hopper",
    roles=("doctor",),
)
CLERK = Account(
    email="front.desk@example.org",
    password="seven lanterns over the harbour",
    display_name="Front Desk",
    roles=("clerk",),
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if shutil.which(CHROMIUM) is None:
        service_missing("chromium not installed")
    home = tmp_path_factory.mktemp("portal-browser-home")
    port = free_port()
    seed(home, port, "Lakeside Medical Group", [DOCTOR, CLERK])
    with running_server(home, port, home / "server.log") as running:
        yield running


def watch_console(page: Page) -> list[str]:
    """Content-Security-Policy violations and script errors seen while the test runs.

    Failed statuses (a 401 for a wrong code) are logged too; they are expected.
    """
    errors: list[str] = []

    def keep(message: ConsoleMessage) -> None:
        if message.type == "error" and "Failed to load resource" not in message.text:
            errors.append(message.text)

    page.on("console", keep)
    return errors


async def sign_in(page: Page, base_url: str, account: Account) -> None:
    await page.goto(f"{base_url}/")
    await expect(page).to_have_url(f"{base_url}/login")
    await page.get_by_label("Email address").fill(account.email)
    await page.get_by_label("Password").fill(account.password)
    await page.get_by_role("button", name="Sign in").click()


def wrong_code(secret: str) -> str:
    valid = {pyotp.TOTP(secret).at(time.time() + delta) for delta in (-30, 0, 30, 60)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in valid)


async def test_sign_in_enrol_two_factor_and_sign_in_with_a_code(
    server: Server, browser: Browser, tmp_path: Path
) -> None:
    base = server.base_url
    context = await browser.new_context()
    page = await context.new_page()
    errors = watch_console(page)
    page.on("pageerror", lambda error: errors.append(str(error)))
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)

    await sign_in(page, base, DOCTOR)
    await expect(page).to_have_url(f"{base}/")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Dr Grace Hopper")
    cookies = {c["name"]: c for c in await context.cookies()}
    assert cookies["__Host-clinvault_access"]["httpOnly"]
    assert cookies["__Host-clinvault_refresh"]["sameSite"] == "Strict"

    await page.get_by_role("link", name="Profile").click()
    await page.get_by_role("button", name="Enable two-factor").click()
    await expect(page.get_by_role("img", name="QR code")).to_be_visible()
    secret = (await page.locator("#mfa-secret").inner_text()).replace(" ", "")
    await page.get_by_label("Authentication code").fill(pyotp.TOTP(secret).now())
    await page.get_by_role("button", name="Turn on two-factor").click()
    await expect(
        page.get_by_role("heading", name="Two-factor authentication is on")
    ).to_be_visible()
    await expect(page.get_by_role("list", name="Recovery codes").locator("li")).to_have_count(10)

    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(f"{base}/login?notice=signed-out")
    await expect(page.get_by_text("You have signed out.")).to_be_visible()

    await sign_in(page, base, DOCTOR)
    await expect(page.get_by_role("heading", name="Enter your two-factor code")).to_be_visible()
    await page.get_by_label("Authentication code").fill(wrong_code(secret))
    await page.get_by_role("button", name="Verify").click()
    await expect(page.get_by_role("alert")).to_contain_text("The code is not valid")
    await expect(page).to_have_url(f"{base}/login/mfa")

    # The enrolment used the current 30-second step; the next step's code is fresh.
    await page.get_by_label("Authentication code").fill(pyotp.TOTP(secret).at(time.time() + 30))
    await page.get_by_role("button", name="Verify").click()
    await expect(page).to_have_url(f"{base}/")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Dr Grace Hopper")
    await expect(page.get_by_text("Lakeside Medical Group")).to_be_visible()
    await page.screenshot(path=str(tmp_path / "home.png"), full_page=True)
    assert (tmp_path / "home.png").stat().st_size > 0
    assert errors == []
    assert missing == []
    await context.close()


async def test_the_portal_works_without_javascript(server: Server, browser: Browser) -> None:
    base = server.base_url
    context = await browser.new_context(java_script_enabled=False)
    page = await context.new_page()
    await page.goto(f"{base}/profile")
    await expect(page).to_have_url(f"{base}/login?next=%2Fprofile")
    await page.get_by_label("Email address").fill(CLERK.email)
    await page.get_by_label("Password").fill("not the password at all")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_contain_text("Wrong email or password")
    await expect(page.get_by_label("Email address")).to_have_value(CLERK.email)
    await expect(page.get_by_label("Password")).to_have_value("")
    await page.get_by_label("Password").fill(CLERK.password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{base}/profile")
    await expect(page.get_by_text(CLERK.email)).to_be_visible()
    await context.close()
