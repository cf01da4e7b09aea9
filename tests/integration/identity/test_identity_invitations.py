"""Invitations: durable mail with the link, single-use acceptance, expiry, revocation."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import httpx
from sqlalchemy import select, update
from tests.factories import (
    DEFAULT_PASSWORD,
    create_org,
    create_user,
    login,
    mail_text,
    problem,
    signed_in,
    wait_for_mail,
)

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role
from clinvault.identity.tokens import invitation_token
from clinvault.models.identity import Invitation
from clinvault.timeutil import utcnow

LINK = re.compile(r"(https?://\S+/invite/([A-Za-z0-9_-]+))")


async def invite(
    client: httpx.AsyncClient, headers: dict[str, str], email: str, roles: list[str]
) -> httpx.Response:
    return await client.post(
        "/api/invitations", json={"email": email, "roles": roles}, headers=headers
    )


async def token_of(container: Container, invitation_id: str) -> str:
    async with container.db.sessions() as session:
        row = await session.scalar(
            select(Invitation).where(Invitation.id == uuid.UUID(invitation_id))
        )
    assert row is not None
    return invitation_token(container.keys, row.id, row.token_nonce, row.token_key_version)


async def accept(client: httpx.AsyncClient, token: str) -> httpx.Response:
    body = {"token": token, "password": DEFAULT_PASSWORD, "display_name": "Dr. Invited"}
    return await client.post("/api/invitations/accept", json=body)


async def test_invitation_mail_link_accept_and_sign_in(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container, name="Riverside Clinic")
    _, headers = await signed_in(client, container, org, roles=[Role.ORG_ADMIN])
    created = await invite(client, headers, "Invitee@Example.org", ["doctor", "nurse"])
    assert created.status_code == 201, created.text
    invitation = created.json()
    assert invitation["email"] == "invitee@example.org"
    assert invitation["roles"] == ["doctor", "nurse"]
    assert set(invitation) == {"id", "email", "roles", "expires_at"}

    mail = await wait_for_mail(container, "invitee@example.org", "Riverside Clinic")
    text = mail_text(mail)
    match = LINK.search(text)
    assert match is not None, text
    assert match.group(1).startswith(f"{container.settings.public_url}/invite/")
    token = match.group(2)
    assert token == await token_of(container, invitation["id"])
    async with container.db.sessions() as session:
        stored = await session.scalar(select(Invitation.token_hash))
    assert stored != token
    assert token not in str(stored)

    preview = await client.get(f"/api/invitations/{token}")
    assert preview.status_code == 200
    assert preview.json()["organization_name"] == "Riverside Clinic"
    assert preview.json()["email"] == "invitee@example.org"

    accepted = await accept(client, token)
    assert accepted.status_code == 201, accepted.text
    user = accepted.json()
    assert user["organization_id"] == str(org.id)
    assert user["roles"] == ["doctor", "nurse"]
    assert user["display_name"] == "Dr. Invited"
    assert (await login(client, "invitee@example.org"))["user"]["id"] == user["id"]

    problem(await accept(client, token), 410, "invitation_used")
    problem(await client.get(f"/api/invitations/{token}"), 410, "invitation_used")


async def test_expired_invitations_are_gone(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    _, headers = await signed_in(client, container, org, roles=[Role.ORG_ADMIN])
    invitation = (await invite(client, headers, "late@example.org", ["clerk"])).json()
    async with container.db.unit_of_work() as session:
        await session.execute(
            update(Invitation)
            .where(Invitation.id == uuid.UUID(invitation["id"]))
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
    token = await token_of(container, invitation["id"])
    problem(await client.get(f"/api/invitations/{token}"), 410, "invitation_expired")
    problem(await accept(client, token), 410, "invitation_expired")


async def test_revoked_invitations_are_gone_and_other_tenants_cannot_revoke(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    other = await create_org(container)
    _, headers = await signed_in(client, container, org, roles=[Role.ORG_ADMIN])
    _, other_headers = await signed_in(client, container, other, roles=[Role.ORG_ADMIN])
    invitation = (await invite(client, headers, "maybe@example.org", ["nurse"])).json()
    problem(
        await client.delete(f"/api/invitations/{invitation['id']}", headers=other_headers),
        404,
        "invitation_not_found",
    )
    revoked = await client.delete(f"/api/invitations/{invitation['id']}", headers=headers)
    assert revoked.status_code == 204
    token = await token_of(container, invitation["id"])
    problem(await accept(client, token), 410, "invitation_revoked")


async def test_only_org_admins_invite_and_only_organization_roles(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    _, doctor = await signed_in(client, container, org, roles=[Role.DOCTOR])
    _, admin = await signed_in(client, container, org, roles=[Role.ORG_ADMIN])
    problem(await invite(client, doctor, "x@example.org", ["nurse"]), 403, "permission_denied")
    problem(await invite(client, admin, "x@example.org", ["admin"]), 403, "role_not_allowed")
    problem(await invite(client, admin, "x@example.org", []), 422, "request_invalid")
    forged = await client.post(
        "/api/invitations",
        json={"email": "x@example.org", "roles": ["nurse"], "organization_id": str(uuid.uuid4())},
        headers=admin,
    )
    problem(forged, 422, "request_invalid")
    async with container.db.sessions() as session:
        assert (await session.scalars(select(Invitation))).all() == []


async def test_unknown_tokens_and_weak_passwords(
    client: httpx.AsyncClient, container: Container
) -> None:
    problem(await client.get("/api/invitations/not-a-real-token"), 404, "invitation_not_found")
    problem(await accept(client, "not-a-real-token"), 404, "invitation_not_found")
    org = await create_org(container)
    _, headers = await signed_in(client, container, org, roles=[Role.ORG_ADMIN])
    invitation = (await invite(client, headers, "weak@example.org", ["clerk"])).json()
    token = await token_of(container, invitation["id"])
    body = {"token": token, "password": "too short", "display_name": "Weak"}
    problem(await client.post("/api/invitations/accept", json=body), 422, "password_too_weak")
    assert (await accept(client, token)).status_code == 201


async def test_existing_accounts_cannot_be_invited_or_claimed(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    other = await create_org(container)
    member, headers = await signed_in(client, container, org, roles=[Role.ORG_ADMIN])
    problem(await invite(client, headers, member.email, ["nurse"]), 409, "email_unavailable")
    invitation = (await invite(client, headers, "twice@example.org", ["nurse"])).json()
    await create_user(container, other, roles=[Role.CLERK], email="twice@example.org")
    token = await token_of(container, invitation["id"])
    problem(await accept(client, token), 409, "email_unavailable")
    preview = await client.get(f"/api/invitations/{token}")
    assert preview.status_code == 200
