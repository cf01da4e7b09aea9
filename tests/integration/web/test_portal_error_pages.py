"""Every portal error page keeps the signed-in user's menu and says what to do next."""

from __future__ import annotations

import re

import httpx
import pytest
from portal_helpers import form_token, sign_in
from tests.factories import create_org, create_user

from clinvault.bootstrap import Container
from clinvault.credentials.service import CredentialService
from clinvault.errors import AccountLocked, ServiceUnavailable
from clinvault.identity.principal import Role

MENU = 'aria-label="Main"'
NEXT = "What to do next"


async def signed_in_doctor(portal: httpx.AsyncClient, container: Container) -> None:
    org = await create_org(container)
    user = await create_user(container, org, roles=[Role.DOCTOR])
    assert (await sign_in(portal, user.email)).status_code == 303


def next_step(html: str) -> str:
    match = re.search(r"<p class=\"error-next\" data-next-step>([^<]+)</p>", html)
    assert match, "no next step on the page"
    return match.group(1)


def assert_page_with_menu(response: httpx.Response, status: int) -> str:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert MENU in html
    assert "Sign out" in html
    assert f"Error {status}" in html
    assert NEXT in html
    assert 'href="/">Go to your home page' in html
    return next_step(html)


async def test_not_found_keeps_the_menu(portal: httpx.AsyncClient, container: Container) -> None:
    await signed_in_doctor(portal, container)
    unrouted = await portal.get("/no/such/page")
    assert "use the menu" in assert_page_with_menu(unrouted, 404)
    unknown = await portal.get("/credentials/submissions/ZZZZZZZZ")
    assert "use the menu" in assert_page_with_menu(unknown, 404)


async def test_forbidden_keeps_the_menu_and_names_who_to_ask(
    portal: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    clerk = await create_user(container, org, roles=[Role.CLERK])
    await sign_in(portal, clerk.email)
    page = await portal.get("/credentials/upload")
    assert "ask an administrator" in assert_page_with_menu(page, 403)


async def test_a_signed_out_reader_gets_the_page_and_a_sign_in_link(
    portal: httpx.AsyncClient,
) -> None:
    page = await portal.get("/no/such/page")
    assert page.status_code == 404
    assert MENU not in page.text
    assert 'href="/login">Sign in' in page.text
    assert NEXT in page.text


@pytest.mark.parametrize(
    ("raised", "status", "advice"),
    [
        (AccountLocked("Too many attempts: wait 15 minutes."), 429, "Wait a few minutes"),
        (ServiceUnavailable("The key service is unavailable."), 503, "Wait a minute"),
        (RuntimeError("a bug"), 500, "request number"),
    ],
)
async def test_server_side_failures_keep_the_menu(
    portal: httpx.AsyncClient,
    container: Container,
    monkeypatch: pytest.MonkeyPatch,
    raised: Exception,
    status: int,
    advice: str,
) -> None:
    await signed_in_doctor(portal, container)

    async def failing(*_args: object, **_kwargs: object) -> None:
        raise raised

    monkeypatch.setattr(CredentialService, "mine", failing)
    page = await portal.get("/credentials")
    assert advice in assert_page_with_menu(page, status)
    assert "a bug" not in page.text


async def test_a_form_body_over_the_limit_is_a_page_with_the_menu(
    portal: httpx.AsyncClient, container: Container
) -> None:
    await signed_in_doctor(portal, container)
    page = await portal.get("/credentials/upload")
    token = form_token(page.text, "/credentials/profile")
    limit = container.settings.security.max_json_body_bytes

    async def body() -> object:
        yield f"csrf_token={token}&npi=".encode()

    response = await portal.post(
        "/credentials/profile",
        content=body(),  # type: ignore[arg-type]
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "content-length": str(limit * 4),
        },
    )
    assert "fewer or smaller" in assert_page_with_menu(response, 413)
