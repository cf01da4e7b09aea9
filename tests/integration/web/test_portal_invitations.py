"""Inviting a member from the portal and accepting the invitation link."""

from __future__ import annotations

import httpx
from portal_helpers import form_token, post_form, sign_in
from sqlalchemy import select
from tests.factories import create_org, create_user

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role
from clinvault.identity.tokens import invitation_token
from clinvault.models import AuditEvent
from clinvault.models.identity import Invitation

NEW_PASSWORD = "a long and memorable passphrase"


async def link_token(container: Container, email: str) -> str:
    """The token of the emailed link, recomputed from the invitation row."""
    async with container.db.sessions() as session:
        invitation = await session.scalar(select(Invitation).where(Invitation.email == email))
    assert invitation is not None
    return invitation_token(
        container.keys, invitation.id, invitation.token_nonce, invitation.token_key_version
    )


async def test_org_admin_invites_and_the_invitee_joins(
    portal: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container, name="Harbour Health")
    admin = await create_user(container, org, roles=[Role.ORG_ADMIN])
    await sign_in(portal, admin.email)
    home = await portal.get("/")
    assert '<a href="/users/invite">Invite user</a>' in home.text

    invalid = await post_form(portal, "/users/invite", "/users/invite", {"email": "not-an-email"})
    assert invalid.status_code == 400
    assert "Enter a valid email address" in invalid.text
    assert "Choose at least one role" in invalid.text

    sent = await post_form(
        portal,
        "/users/invite",
        "/users/invite",
        {"email": "New.Nurse@Example.org", "roles": ["nurse", "clerk"]},
    )
    assert sent.status_code == 303
    assert sent.headers["location"] == "/users/invite?notice=sent"
    assert "Invitation sent" in (await portal.get(sent.headers["location"])).text

    token = await link_token(container, "new.nurse@example.org")
    portal.cookies.clear()
    page = await portal.get(f"/invite/{token}")
    assert page.status_code == 200
    assert "Join Harbour Health" in page.text
    assert "new.nurse@example.org" in page.text
    action = f"/invite/{token}"

    mismatch = await portal.post(
        action,
        data={
            "display_name": "Nia Nurse",
            "password": NEW_PASSWORD,
            "password_confirm": NEW_PASSWORD + "!",
            "csrf_token": form_token(page.text, action),
        },
    )
    assert mismatch.status_code == 400
    assert "do not match" in mismatch.text
    assert 'value="Nia Nurse"' in mismatch.text
    assert NEW_PASSWORD not in mismatch.text

    weak = await post_form(
        portal,
        action,
        action,
        {"display_name": "Nia Nurse", "password": "short", "password_confirm": "short"},
    )
    assert weak.status_code == 400
    assert "at least 12 characters" in weak.text

    created = await post_form(
        portal,
        action,
        action,
        {"display_name": "Nia Nurse", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )
    assert created.status_code == 303
    assert created.headers["location"] == "/login?notice=account-created"
    assert "Your account is ready" in (await portal.get(created.headers["location"])).text

    signed = await sign_in(portal, "new.nurse@example.org", password=NEW_PASSWORD)
    assert signed.status_code == 303
    welcome = await portal.get("/")
    assert "Welcome, Nia Nurse" in welcome.text
    assert "Invite user" not in welcome.text

    used = await portal.get(action)
    assert used.status_code == 410
    assert used.headers["content-type"].startswith("text/html")
    assert "already used" in used.text

    async with container.db.sessions() as session:
        paths = set(
            await session.scalars(select(AuditEvent.path).where(AuditEvent.path.like("/invite/%")))
        )
    assert paths == {"/invite/{token}"}


async def test_unknown_invitation_link_is_a_friendly_404(portal: httpx.AsyncClient) -> None:
    response = await portal.get("/invite/not-a-real-token")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "invitation link is not valid" in response.text


async def test_members_without_the_role_cannot_invite(
    portal: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    doctor = await create_user(container, org, roles=[Role.DOCTOR])
    await sign_in(portal, doctor.email)
    home = await portal.get("/")
    assert "Invite user" not in home.text
    page = await portal.get("/users/invite")
    assert page.status_code == 403
    assert page.headers["content-type"].startswith("text/html")
    assert "organization administrator" in page.text
