"""Builders for organizations, accounts and signed-in clients, shared by every test."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Iterable
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import httpx

from clinvault.bootstrap import Container
from clinvault.credentials.identifiers import npi_is_valid
from clinvault.identity.admin_service import create_organization
from clinvault.identity.admin_service import create_user as make_user
from clinvault.identity.principal import Role
from clinvault.models.identity import Organization, User

DEFAULT_PASSWORD = "correct horse battery staple"


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def unique_npi() -> str:
    """A fresh NPI that passes its check digit (an NPI is unique across the platform)."""
    body = f"1{secrets.randbelow(10**8):08d}"
    return next(body + str(digit) for digit in range(10) if npi_is_valid(body + str(digit)))


async def create_org(
    container: Container,
    *,
    kind: str = "provider",
    slug: str | None = None,
    allow_patient_registration: bool = False,
    name: str | None = None,
) -> Organization:
    slug = slug or unique(kind)
    async with container.db.unit_of_work() as session:
        return await create_organization(
            session,
            name=name or f"Organization {slug}",
            slug=slug,
            kind=kind,
            allow_patient_registration=allow_patient_registration,
        )


async def create_user(
    container: Container,
    org: Organization,
    *,
    roles: Iterable[Role | str],
    email: str | None = None,
    password: str | None = DEFAULT_PASSWORD,
    display_name: str | None = None,
) -> User:
    email = email or f"{unique('user')}@example.org"
    async with container.db.unit_of_work() as session:
        return await make_user(
            session,
            container.settings,
            organization_id=org.id,
            email=email,
            password=password,
            roles=list(roles),
            display_name=display_name or email.split("@")[0],
        )


async def create_platform_admin(container: Container) -> User:
    platform = await create_org(container, kind="platform", slug=unique("platform"))
    return await create_user(container, platform, roles=[Role.ADMIN])


async def login(
    client: httpx.AsyncClient, email: str, password: str = DEFAULT_PASSWORD
) -> dict[str, Any]:
    """The token response of a successful sign-in (fails the test otherwise)."""
    response = await client.post("/api/auth/login", json={"username": email, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def auth_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def signed_in(
    client: httpx.AsyncClient,
    container: Container,
    org: Organization,
    *,
    roles: Iterable[Role | str],
    email: str | None = None,
) -> tuple[User, dict[str, str]]:
    """A new account in `org` and the headers of its signed-in session."""
    user = await create_user(container, org, roles=roles, email=email)
    tokens = await login(client, user.email)
    return user, auth_headers(tokens["access_token"])


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Assert an RFC 9457 problem answer with this status and code; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert body["status"] == status
    assert body["detail"]
    return body


def mails_to(container: Container, address: str) -> list[EmailMessage]:
    """Messages to `address` in the file:// mail folder."""
    folder = container.settings.local_path(container.settings.mail_url)
    found: list[EmailMessage] = []
    for path in sorted(folder.glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(message, EmailMessage)
        if address in str(message["To"]):
            found.append(message)
    return found


async def wait_for_mail(
    container: Container, address: str, subject_part: str, timeout: float = 10.0
) -> EmailMessage:
    """The first message to `address` whose subject contains `subject_part`, polling."""
    deadline = time.monotonic() + timeout
    while True:
        for message in mails_to(container, address):
            if subject_part in str(message["Subject"]):
                return message
        if time.monotonic() > deadline:
            raise AssertionError(f"no mail about {subject_part!r} to {address} in {timeout}s")
        await asyncio.sleep(0.1)


def mail_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())
