"""Portal sign-in over HTTP: CSRF, session cookies, redirects, headers, escaping, sign-out."""

from __future__ import annotations

import httpx
import pytest
from portal_helpers import (
    ACCESS,
    CSRF,
    REFRESH,
    csrf_tokens,
    form_token,
    hidden,
    post_form,
    replace_cookie,
    set_cookies,
    sign_in,
)
from sqlalchemy import select
from tests.factories import DEFAULT_PASSWORD, create_org, create_user

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role
from clinvault.models import AuditEvent
from clinvault.web.session import safe_next


async def test_login_page_renders_a_protected_form(portal: httpx.AsyncClient) -> None:
    response = await portal.get("/login")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<label for="email">' in response.text
    assert '<label for="password">' in response.text
    assert len(csrf_tokens(response.text)) == 1
    cookie = set_cookies(response)[CSRF][CSRF]
    assert cookie["httponly"]
    assert cookie["secure"]
    assert cookie["path"] == "/"
    assert cookie["samesite"].lower() == "lax"


async def test_portal_pages_carry_strict_security_headers(portal: httpx.AsyncClient) -> None:
    for path in ("/login", "/no-such-page"):
        response = await portal.get(path)
        csp = response.headers["content-security-policy"]
        assert "unsafe-inline" not in csp
        assert "script-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "<script>" not in response.text
        assert " style=" not in response.text


async def test_unknown_portal_path_is_an_html_404_but_the_api_keeps_problems(
    portal: httpx.AsyncClient,
) -> None:
    page = await portal.get("/no-such-page")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Page not found" in page.text
    api = await portal.get("/api/no-such-thing")
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"


async def test_static_files_are_served(portal: httpx.AsyncClient) -> None:
    css = await portal.get("/static/portal.css")
    assert css.status_code == 200
    assert ":focus-visible" in css.text


async def test_login_post_without_csrf_is_refused_and_sets_no_session(
    portal: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    user = await create_user(container, org, roles=[Role.DOCTOR])
    await portal.get("/login")  # the browser holds a CSRF cookie but posts no token
    response = await portal.post("/login", data={"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "could not be verified" in response.text
    assert ACCESS not in set_cookies(response)
    assert REFRESH not in set_cookies(response)
    async with container.db.sessions() as session:
        failed = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "portal.login.submit")
        )
    assert failed is not None
    assert failed.status_code == 403


async def test_a_token_for_another_form_or_another_browser_is_refused(
    portal: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    user = await create_user(container, org, roles=[Role.DOCTOR])
    await sign_in(portal, user.email)
    home = await portal.get("/")
    logout_token = form_token(home.text, "/logout")
    wrong_purpose = await portal.post("/profile/mfa/enroll", data={"csrf_token": logout_token})
    assert wrong_purpose.status_code == 403
    replace_cookie(portal, CSRF, "A" * 43)
    other_browser = await portal.post("/logout", data={"csrf_token": logout_token})
    assert other_browser.status_code == 403
    assert (await portal.get("/")).status_code == 200  # still signed in


async def test_a_cross_origin_post_is_refused_even_with_a_valid_token(
    portal: httpx.AsyncClient,
) -> None:
    page = await portal.get("/login")
    token = form_token(page.text, "/login")
    fields = {"email": "a@example.org", "password": "x", "csrf_token": token}
    evil = await portal.post("/login", data=fields, headers={"origin": "https://evil.example"})
    assert evil.status_code == 403
    cross = await portal.post("/login", data=fields, headers={"sec-fetch-site": "cross-site"})
    assert cross.status_code == 403
    same = await portal.post("/login", data=fields, headers={"origin": "https://testserver"})
    assert same.status_code == 401


async def test_signing_in_sets_hardened_session_cookies(
    portal: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container, name="Riverside Clinic")
    user = await create_user(container, org, roles=[Role.DOCTOR], display_name="Dr Ada Lane")
    response = await sign_in(portal, user.email)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookies = set_cookies(response)
    access, refresh = cookies[ACCESS][ACCESS], cookies[REFRESH][REFRESH]
    for cookie in (access, refresh):
        assert cookie["httponly"]
        assert cookie["secure"]
        assert cookie["path"] == "/"
        assert not cookie["domain"]
    assert access["samesite"].lower() == "lax"
    assert refresh["samesite"].lower() == "strict"
    home = await portal.get("/")
    assert home.status_code == 200
    assert "Welcome, Dr Ada Lane" in home.text
    assert "Riverside Clinic" in home.text
    assert "Doctor" in home.text


async def test_wrong_password_is_shown_inline_keeping_the_email_only(
    portal: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    user = await create_user(container, org, roles=[Role.NURSE])
    response = await sign_in(portal, user.email, password="not-the-password-123")
    assert response.status_code == 401
    assert "Wrong email or password" in response.text
    assert f'value="{user.email}"' in response.text
    assert "not-the-password-123" not in response.text
    assert ACCESS not in set_cookies(response)


async def test_a_protected_page_without_a_session_redirects_to_login(
    portal: httpx.AsyncClient,
) -> None:
    response = await portal.get("/profile")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fprofile"
    root = await portal.get("/")
    assert root.status_code == 303
    assert root.headers["location"] == "/login"


@pytest.mark.parametrize(
    "target",
    ["//evil.example", "https://evil.example/", "/\\evil.example", "/\t/evil.example", "evil"],
)
async def test_next_never_leaves_the_site(
    portal: httpx.AsyncClient, container: Container, target: str
) -> None:
    page = await portal.get("/login", params={"next": target})
    assert hidden(page.text, "next") == "/"
    org = await create_org(container)
    user = await create_user(container, org, roles=[Role.CLERK])
    token = form_token(page.text, "/login")
    response = await portal.post(
        "/login",
        data={
            "email": user.email,
            "password": DEFAULT_PASSWORD,
            "next": target,
            "csrf_token": token,
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_safe_next_keeps_local_paths_only() -> None:
    assert safe_next("/profile?tab=mfa") == "/profile?tab=mfa"
    assert safe_next("/login") == "/"
    for hostile in (
        "//x.example",
        "http://x.example",
        "/\\x.example",
        "javascript:alert(1)",
        "/%0a",
        "/\x00",
        "",
        None,
        "/" + "a" * 5000,
    ):
        expected = "/%0a" if hostile == "/%0a" else "/"
        assert safe_next(hostile) == expected


async def test_next_path_is_followed_after_sign_in(
    portal: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    user = await create_user(container, org, roles=[Role.DOCTOR])
    redirect = await portal.get("/profile")
    assert redirect.headers["location"] == "/login?next=%2Fprofile"
    response = await sign_in(portal, user.email, next_path="/profile")
    assert response.headers["location"] == "/profile"


async def test_display_names_are_escaped(portal: httpx.AsyncClient, container: Container) -> None:
    org = await create_org(container, name="<b>Org</b>")
    user = await create_user(
        container, org, roles=[Role.DOCTOR], display_name="<script>alert(1)</script>"
    )
    await sign_in(portal, user.email)
    for path in ("/", "/profile"):
        page = await portal.get(path)
        assert "<script>alert(1)</script>" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
        assert "<b>Org</b>" not in page.text


async def test_an_expired_access_cookie_is_refreshed_transparently(
    portal: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    user = await create_user(container, org, roles=[Role.DOCTOR])
    signed = await sign_in(portal, user.email)
    old_refresh = set_cookies(signed)[REFRESH][REFRESH].value
    replace_cookie(portal, ACCESS, "expired.or.garbage")
    home = await portal.get("/")
    assert home.status_code == 200
    rotated = set_cookies(home)
    assert rotated[REFRESH][REFRESH].value != old_refresh
    assert rotated[ACCESS][ACCESS].value
    reuse = await portal.post("/api/auth/refresh", json={"refresh_token": old_refresh})
    assert reuse.status_code == 401


async def test_sign_out_clears_cookies_and_revokes_the_session(
    portal: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    user = await create_user(container, org, roles=[Role.PHARMACIST])
    signed = await sign_in(portal, user.email)
    access = set_cookies(signed)[ACCESS][ACCESS].value
    refresh = set_cookies(signed)[REFRESH][REFRESH].value
    response = await post_form(portal, "/", "/logout", {})
    assert response.status_code == 303
    assert response.headers["location"] == "/login?notice=signed-out"
    cleared = set_cookies(response)
    for name in (ACCESS, REFRESH):
        assert cleared[name][name].value == ""
        assert cleared[name][name]["max-age"] == "0"
    assert (await portal.get("/")).status_code == 303
    notice = await portal.get("/login?notice=signed-out")
    assert "You have signed out." in notice.text
    api = await portal.get("/api/auth/profile", headers={"Authorization": f"Bearer {access}"})
    assert api.status_code == 401
    again = await portal.post("/api/auth/refresh", json={"refresh_token": refresh})
    assert again.status_code == 401
    replace_cookie(portal, ACCESS, access)
    replace_cookie(portal, REFRESH, refresh)
    assert (await portal.get("/")).status_code == 303
