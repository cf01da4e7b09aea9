"""In-app notifications: own only, newest first, unread count, mark read."""

from __future__ import annotations

import uuid

import httpx
from tests.factories import create_org, problem, signed_in

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role
from clinvault.notifications.service import notify


async def test_notifications_are_listed_and_marked_read(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    user, headers = await signed_in(client, container, org, roles=[Role.NURSE])
    other, other_headers = await signed_in(client, container, org, roles=[Role.NURSE])
    async with container.db.unit_of_work() as session:
        for n in range(3):
            added = await notify(
                session,
                organization_id=org.id,
                user_ids=[user.id, user.id],
                kind="test.kind",
                title=f"Notice {n}",
                body="Something happened.",
                link="/somewhere",
                dedupe_key=f"notice-{n}",
            )
            assert added == 1
        assert (
            await notify(
                session,
                organization_id=org.id,
                user_ids=[user.id],
                kind="test.kind",
                title="Again",
                body="Repeated.",
                link=None,
                dedupe_key="notice-0",
            )
            == 0
        )

    listing = (await client.get("/api/notifications", headers=headers)).json()
    assert listing["unread"] == 3
    assert [item["title"] for item in listing["items"]] == ["Notice 2", "Notice 1", "Notice 0"]
    assert (await client.get("/api/notifications", headers=other_headers)).json() == {
        "items": [],
        "unread": 0,
    }
    newest = listing["items"][0]["id"]
    problem(
        await client.post(f"/api/notifications/{newest}/read", headers=other_headers),
        404,
        "notification_not_found",
    )
    problem(
        await client.post(f"/api/notifications/{uuid.uuid4()}/read", headers=headers),
        404,
        "notification_not_found",
    )
    read = await client.post(f"/api/notifications/{newest}/read", headers=headers)
    assert read.status_code == 200
    assert read.json()["read_at"] is not None
    assert (await client.get("/api/notifications", headers=headers)).json()["unread"] == 2
    unread_only = await client.get("/api/notifications?unread_only=true", headers=headers)
    assert len(unread_only.json()["items"]) == 2
    marked = await client.post("/api/notifications/read-all", headers=headers)
    assert marked.json() == {"marked": 2}
    assert (await client.get("/api/notifications", headers=headers)).json()["unread"] == 0
    assert other.id != user.id
