"""Accounts in real Chromium: a forgot-password round trip through the mail folder, the
password a new member chooses at first sign-in, and a portal session ending when idle.

One server for the module, with a short idle timeout so that the wait is seconds; on
PostgreSQL (CLINVAULT_TEST_DATABASE=postgresql) it runs on a database of its own.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect
from portal_server import Account, Server, free_port, running_server, seed
from test_browser_login import CHROMIUM, watch_console
from tests.conftest import backend, create_pg_database, drop_pg_database, service_missing

IDLE_SECONDS = 8
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
RESET_LINK = re.compile(r"https?://\S+/reset-password/[A-Za-z0-9_-]+")

ADMIN = Account(
    email="office.manager@example.org",
    password="nine copper kettles on a shelf",
    display_name="Office Manager",
    roles=("org_admin",),
)
DOCTOR = Account(
    email="dr.forgetful@example.org",
    password="a morning walk along the canal",
    display_name="Dr Forgetful",
    roles=("doctor",),
)
NEW_NURSE = "new.nurse@example.org"
GIVEN = "a password the manager knows"
CHOSEN = "only the nurse knows this one"
RESET_TO = "a fresh password after the reset"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    import shutil

    if shutil.which(CHROMIUM) is None:
        service_missing("chromium not installed")
    home = tmp_path_factory.mktemp("portal-accounts-home")
    env = {"CLINVAULT_SECURITY__PORTAL_IDLE_TIMEOUT_SECONDS": str(IDLE_SECONDS)}
    database = asyncio.run(create_pg_database()) if backend() == "postgresql" else None
    if database is not None:
        env["CLINVAULT_DATABASE_URL"] = database
    port = free_port()
    try:
        seed(home, port, "Harbour Family Practice", [ADMIN, DOCTOR], extra_env=env)
        with running_server(home, port, home / "server.log", extra_env=env) as running:
            yield running
    finally:
        if database is not None:
            asyncio.run(drop_pg_database(database))


def mail_folder(server: Server) -> Path:
    return server.log.parent / "mail"


async def wait_for_link(server: Server, address: str) -> str:
    """The reset link of the newest message to `address` in the server's mail folder."""
    for _ in range(200):
        for path in sorted(mail_folder(server).glob("*.eml"), reverse=True):
            message = message_from_bytes(path.read_bytes(), policy=policy.default)
            assert isinstance(message, EmailMessage)
            if address in str(message["To"]) and "Reset" in str(message["Subject"]):
                body = message.get_body(preferencelist=("plain",))
                assert body is not None
                match = RESET_LINK.search(str(body.get_content()))
                assert match is not None
                return match.group(0)
        await asyncio.sleep(0.1)
    raise AssertionError(f"no reset mail to {address}")


async def fits(page: Page, width: int) -> None:
    wide = await page.evaluate("document.documentElement.scrollWidth")
    assert wide <= width, f"{page.url} is {wide}px wide at {width}px"


async def sign_in(page: Page, email: str, password: str) -> None:
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password", exact=True).fill(password)
    await page.get_by_role("button", name="Sign in").click()


async def test_forgot_password_first_password_and_idle_session(
    server: Server, browser: Browser
) -> None:
    base = server.base_url

    # A phone: forgot password, the link from the mail folder, a new password.
    phone = await browser.new_context(viewport=PHONE)
    page = await phone.new_page()
    errors = watch_console(page)
    await page.goto(f"{base}/login")
    await fits(page, PHONE["width"])
    await page.get_by_role("link", name="Forgot your password?").click()
    await expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    await fits(page, PHONE["width"])
    await page.get_by_label("Email address").fill(DOCTOR.email)
    await page.get_by_role("button", name="Send the link").click()
    await expect(page.get_by_role("status")).to_contain_text("If an active account uses")
    link = await wait_for_link(server, DOCTOR.email)
    await page.goto(link)
    await expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    await fits(page, PHONE["width"])
    await page.get_by_label("New password", exact=True).fill(RESET_TO)
    await page.get_by_label("Type the new password again").fill(RESET_TO)
    await page.get_by_role("button", name="Save the new password").click()
    await expect(page).to_have_url(f"{base}/login?notice=password-reset")
    await expect(page.get_by_text("Your password was changed")).to_be_visible()
    await sign_in(page, DOCTOR.email, RESET_TO)
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Dr Forgetful")
    await page.goto(link)
    await expect(page.get_by_role("alert")).to_contain_text("already used")
    assert errors == []
    await phone.close()

    # A desktop: the manager creates a member, who must choose a password first.
    desk = await browser.new_context(viewport=DESKTOP)
    page = await desk.new_page()
    await page.goto(f"{base}/users/new")
    await sign_in(page, ADMIN.email, ADMIN.password)
    await expect(page.get_by_role("heading", name="Create a user")).to_be_visible()
    await page.get_by_label("Name", exact=True).fill("New Nurse")
    await page.get_by_label("Email address", exact=True).fill(NEW_NURSE)
    await page.get_by_label("Initial password").fill(GIVEN)
    await page.get_by_label("Nurse", exact=True).check()
    await page.get_by_role("button", name="Create user").click()
    await expect(page.get_by_text("choose their own password")).to_be_visible()
    await page.get_by_role("button", name="Sign out").click()

    await page.goto(f"{base}/patients")
    await sign_in(page, NEW_NURSE, GIVEN)
    await expect(page.get_by_role("heading", name="Choose your password")).to_be_visible()
    await expect(page).to_have_url(f"{base}/account/password?next=%2Fpatients")
    await page.get_by_label("Password you were given").fill(GIVEN)
    await page.get_by_label("New password", exact=True).fill(CHOSEN)
    await page.get_by_label("Type the new password again").fill(CHOSEN)
    await page.get_by_role("button", name="Save my password").click()
    await expect(page).to_have_url(f"{base}/patients")
    cookies = {c["name"]: c for c in await desk.cookies()}
    assert cookies["__Host-clinvault_refresh"]["expires"] == -1, "not a browser-session cookie"

    # Left alone past the idle timeout, the session ends; signing in returns to the page.
    await page.wait_for_timeout((IDLE_SECONDS + 2) * 1000)
    await page.reload()
    await expect(page).to_have_url(f"{base}/login?next=%2Fpatients&notice=idle")
    await expect(page.get_by_role("status")).to_contain_text("signed out after 8 seconds")
    await sign_in(page, NEW_NURSE, CHOSEN)
    await expect(page).to_have_url(f"{base}/patients")
    await desk.close()
