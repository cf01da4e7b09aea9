"""Helpers for portal tests: reading forms and cookies out of responses."""

from __future__ import annotations

import re
from html import unescape
from http.cookies import SimpleCookie

import httpx
from tests.factories import DEFAULT_PASSWORD

ACCESS = "__Host-clinvault_access"
REFRESH = "__Host-clinvault_refresh"
CSRF = "__Host-clinvault_csrf"

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_tokens(html: str) -> list[str]:
    return [unescape(value) for value in _CSRF.findall(html)]


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', html)
    assert match, f"no hidden field {name!r} in page"
    return unescape(match.group(1))


def form_token(html: str, action: str) -> str:
    """The CSRF token inside the form whose action is `action`."""
    pattern = re.compile(
        rf'<form[^>]*action="{re.escape(action)}"[^>]*>\s*<input type="hidden" '
        r'name="csrf_token" value="([^"]+)"'
    )
    match = pattern.search(html)
    assert match, f"no form posting to {action!r}"
    return unescape(match.group(1))


def set_cookies(response: httpx.Response) -> dict[str, SimpleCookie]:
    """Each Set-Cookie header parsed, by cookie name."""
    parsed: dict[str, SimpleCookie] = {}
    for header in response.headers.get_list("set-cookie"):
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        for name in jar:
            parsed[name] = jar
    return parsed


async def post_form(
    portal: httpx.AsyncClient, page: str, action: str, fields: dict[str, str | list[str]]
) -> httpx.Response:
    """GET `page`, take the CSRF token of its form posting to `action`, and post `fields`."""
    response = await portal.get(page)
    assert response.status_code == 200, response.text
    token = form_token(response.text, action)
    return await portal.post(action, data={**fields, "csrf_token": token})


async def sign_in(
    portal: httpx.AsyncClient, email: str, password: str = DEFAULT_PASSWORD, next_path: str = "/"
) -> httpx.Response:
    page = await portal.get("/login", params={"next": next_path})
    token = form_token(page.text, "/login")
    return await portal.post(
        "/login",
        data={
            "email": email,
            "password": password,
            "next": hidden(page.text, "next"),
            "csrf_token": token,
        },
    )


def replace_cookie(portal: httpx.AsyncClient, name: str, value: str) -> None:
    """Overwrite a cookie the client holds, as a user editing their browser's cookies."""
    domains = {cookie.domain for cookie in portal.cookies.jar if cookie.name == name}
    for domain in domains:
        portal.cookies.delete(name, domain=domain)
    portal.cookies.set(name, value, domain=next(iter(domains), "testserver.local"))
