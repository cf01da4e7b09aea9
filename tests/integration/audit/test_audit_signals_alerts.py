"""A lockout or a burst of failed sign-ins alerts the organization's administrators at once."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select
from tests.factories import (
    create_org,
    create_user,
    mail_text,
    mails_to,
    problem,
    signed_in,
    wait_for_mail,
)

from clinvault.audit.signals.service import BURST_THRESHOLD, NOTIFICATION_KIND
from clinvault.bootstrap import Container
from clinvault.identity.principal import Role
from clinvault.models.audit import AuditSignalAlert
from clinvault.models.identity import Organization, User

WRONG = "certainly not the password"
PATIENT_NAME = "Grace Okafor"


async def fail(client: httpx.AsyncClient, email: str, expected: int = 401) -> None:
    response = await client.post("/api/auth/login", json={"username": email, "password": WRONG})
    assert response.status_code == expected, response.text


async def alerts(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = await client.get("/api/notifications", headers=headers)
    assert response.status_code == 200, response.text
    return [n for n in response.json()["items"] if n["kind"] == NOTIFICATION_KIND]


async def accounts(container: Container, org: Organization, count: int) -> list[User]:
    """Staff and patient accounts whose sign-ins will fail (a patient's name is PHI)."""
    users = [await create_user(container, org, roles=[Role.NURSE]) for _ in range(count - 1)]
    users.append(
        await create_user(
            container,
            org,
            roles=[Role.PATIENT],
            email="grace.okafor@example.org",
            display_name=PATIENT_NAME,
        )
    )
    return users


async def test_a_burst_of_failed_sign_ins_alerts_each_admin_once_without_phi(
    client: httpx.AsyncClient, container: Container
) -> None:
    org, other = await create_org(container), await create_org(container)
    first, first_headers = await signed_in(client, container, org, roles=[Role.ORG_ADMIN])
    second, second_headers = await signed_in(client, container, org, roles=[Role.ORG_ADMIN])
    _, other_headers = await signed_in(client, container, other, roles=[Role.ORG_ADMIN])
    targets = await accounts(container, org, 5)

    for attempt in range(BURST_THRESHOLD - 1):  # two failures per account: nobody is locked
        await fail(client, targets[attempt % len(targets)].email)
    assert await alerts(client, first_headers) == []
    await fail(client, targets[-1].email)  # the tenth failure within five minutes
    for target in targets[:3]:  # the burst goes on: still one alert
        await fail(client, target.email)

    for admin, headers in ((first, first_headers), (second, second_headers)):
        [notice] = await alerts(client, headers)
        assert notice["title"] == "Sign-in alert: 10 failed sign-ins in 5 minutes"
        assert notice["link"].startswith("/audit?")
        message = await wait_for_mail(container, admin.email, "Sign-in alert")
        assert (
            len(
                [
                    m
                    for m in mails_to(container, admin.email)
                    if "Sign-in alert" in str(m["Subject"])
                ]
            )
            == 1
        )
        text = mail_text(message)
        assert "10 sign-in attempts to accounts of your organization failed" in text
        assert "/audit?" in text
        for target in targets:
            assert target.email not in text
            assert target.email not in str(message["Subject"])
            assert target.display_name not in text
        assert PATIENT_NAME not in message.as_string()
        assert "grace.okafor" not in message.as_string()
    assert await alerts(client, other_headers) == []
    async with container.db.sessions() as session:
        rows = (await session.scalars(select(AuditSignalAlert))).all()
    assert [(row.kind, row.organization_id, row.alerts) for row in rows] == [
        ("failed_sign_in_burst", org.id, 1)
    ]


async def test_a_locked_account_alerts_the_admins_once(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    admin, headers = await signed_in(client, container, org, roles=[Role.ORG_ADMIN])
    nurse = await create_user(container, org, roles=[Role.NURSE], display_name="Nina Night")
    lockout = container.settings.security.lockout_threshold
    for _ in range(lockout - 1):
        await fail(client, nurse.email)
    assert await alerts(client, headers) == []
    await fail(client, nurse.email)  # this failure locks the account
    problem(
        await client.post("/api/auth/login", json={"username": nurse.email, "password": WRONG}),
        429,
        "account_locked",
    )

    [notice] = await alerts(client, headers)
    assert notice["title"] == "Sign-in alert: an account was locked"
    assert str(nurse.id) in notice["link"]  # the audit page narrowed to the account, by id
    assert "Nina Night" not in notice["body"]
    assert nurse.email not in notice["body"]
    message = await wait_for_mail(container, admin.email, "an account was locked")
    text = mail_text(message)
    assert f"locked after {lockout} failed sign-in attempts" in text
    assert "Nina Night" not in text
    assert nurse.email not in message.as_string()
    sent = [m for m in mails_to(container, admin.email) if "Sign-in alert" in str(m["Subject"])]
    assert len(sent) == 1


async def test_failures_of_unknown_addresses_alert_nobody(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    _, headers = await signed_in(client, container, org, roles=[Role.ORG_ADMIN])
    for index in range(BURST_THRESHOLD + 2):
        await fail(client, f"nobody-{index}@example.org")
    assert await alerts(client, headers) == []
