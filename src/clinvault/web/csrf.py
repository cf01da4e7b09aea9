"""Cross-site request forgery defence for every portal form.

Double submit with a signed value: each browser gets a random `csrf` cookie
(HttpOnly, `__Host-` prefixed when cookies are secure). A form carries
`HMAC(k, purpose || cookie value)` where `k` is derived from the "token"
purpose key and `purpose` is the name of the route the form posts to. A POST
passes only when its field matches the MAC of the cookie it arrived with and
its own route name, so a token lifted from one form cannot be replayed on
another, and an attacker who cannot read the cookie cannot forge one.

Independently, a POST whose Origin (or Sec-Fetch-Site) shows it came from
another site is refused. Browsers send `Origin: null` for same-origin form
posts under Referrer-Policy: no-referrer, so a null origin is treated as
unknown: the signed token still has to match.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from urllib.parse import urlsplit

from fastapi import Request
from starlette.datastructures import FormData, UploadFile

from clinvault.bootstrap import Container
from clinvault.errors import CsrfFailed
from clinvault.web import cookies

FIELD = "csrf_token"
_STATE = "portal_csrf_value"
_VALUE = re.compile(r"^[A-Za-z0-9_-]{43}$")
_KEY_LABEL = b"clinvault.portal.csrf"
_ALLOWED_FETCH_SITES = frozenset({"same-origin", "none"})
_MAX_FIELDS = 200

FAILED_DETAIL = (
    "This form could not be verified: it may have expired or been sent from another site. "
    "Go back, reload the page and try again."
)


def _container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


def _key(container: Container) -> bytes:
    return hmac.new(container.keys.derive("token"), _KEY_LABEL, hashlib.sha256).digest()


def _mac(key: bytes, value: str, purpose: str) -> str:
    message = purpose.encode() + b"\x00" + value.encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def browser_value(request: Request) -> str:
    """This browser's CSRF cookie value, issuing (and queueing) one when absent."""
    current = getattr(request.state, _STATE, None)
    if isinstance(current, str):
        return current
    value = cookies.policy(request).read(request, cookies.CSRF)
    if value is None or not _VALUE.match(value):
        return renew(request)
    setattr(request.state, _STATE, value)
    return value


def renew(request: Request) -> str:
    """Issue (and queue the cookie for) a fresh CSRF value, e.g. after sign-in."""
    value = secrets.token_urlsafe(32)
    lifetime = _container(request).settings.security.refresh_token_days * 86400
    rules = cookies.policy(request)
    cookies.queue(request, rules.setter(cookies.CSRF, value, max_age=lifetime, samesite="lax"))
    setattr(request.state, _STATE, value)
    return value


def token_for(request: Request, purpose: str) -> str:
    """The hidden-field value for a form posting to the route named `purpose`."""
    return _mac(_key(_container(request)), browser_value(request), purpose)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def same_origin(request: Request) -> bool:
    """False when the browser says the request came from another site."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in _ALLOWED_FETCH_SITES:
        return False
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        # The portal answers with Referrer-Policy: no-referrer, under which browsers
        # send "Origin: null" even for same-origin form posts: it tells nothing.
        return True
    own = {_origin(_container(request).settings.public_url)}
    host = request.headers.get("host")
    if host:
        own.add(f"{request.url.scheme}://{host}".lower())
    return origin.lower() in own


class PortalForm:
    """The fields of a verified form post; missing fields read as ""."""

    def __init__(self, data: FormData) -> None:
        self._data = data

    def get(self, name: str) -> str:
        value = self._data.get(name)
        return value if isinstance(value, str) else ""

    def get_all(self, name: str) -> list[str]:
        return [v for v in self._data.getlist(name) if isinstance(v, str)]

    def names(self) -> Sequence[str]:
        return list(self._data.keys())


def check_streamed_origin(request: Request) -> None:
    """Before reading a streamed (multipart) portal post: same origin, CSRF cookie present."""
    if not same_origin(request) or cookies.policy(request).read(request, cookies.CSRF) is None:
        raise CsrfFailed(FAILED_DETAIL)


def check_streamed_token(request: Request, submitted: str) -> None:
    """After reading a streamed portal post: its token is the one for this route."""
    purpose = getattr(request.scope.get("route"), "name", None)
    expected = token_for(request, purpose) if isinstance(purpose, str) else ""
    if not expected or not hmac.compare_digest(expected.encode(), submitted.encode()):
        raise CsrfFailed(FAILED_DETAIL)


async def verified_form(request: Request) -> PortalForm:
    """Dependency for every portal POST: parse the form and check its CSRF token.

    The purpose is the name of the route being called. Raising here happens
    before any service runs, so a refused post changes nothing.
    """
    if not same_origin(request):
        raise CsrfFailed(FAILED_DETAIL)
    data = await request.form(max_files=0, max_fields=_MAX_FIELDS)
    if any(isinstance(v, UploadFile) for _, v in data.multi_items()):
        raise CsrfFailed(FAILED_DETAIL)
    route = request.scope.get("route")
    purpose = getattr(route, "name", None)
    cookie = cookies.policy(request).read(request, cookies.CSRF)
    submitted = data.get(FIELD)
    if not purpose or cookie is None or not _VALUE.match(cookie) or not isinstance(submitted, str):
        raise CsrfFailed(FAILED_DETAIL)
    expected = _mac(_key(_container(request)), cookie, purpose)
    if not hmac.compare_digest(expected.encode(), submitted.encode()):
        raise CsrfFailed(FAILED_DETAIL)
    setattr(request.state, _STATE, cookie)
    return PortalForm(data)
