"""What every portal page reads besides its content comes from one query, scoped to
the viewer: their zones, their own unread notifications, their portal session."""

from __future__ import annotations

import uuid

from sqlalchemy import update
from tests.factories import create_org, create_user

from clinvault.bootstrap import Container
from clinvault.identity.accounts.repository import AccountRepository
from clinvault.identity.principal import Role
from clinvault.models.accounts import PortalSession
from clinvault.models.identity import Organization, User
from clinvault.models.notifications import Notification
from clinvault.timeutil import utcnow


def _notification(user: User, key: str, *, read: bool = False) -> Notification:
    return Notification(
        organization_id=user.organization_id,
        user_id=user.id,
        kind="test",
        title="A notice",
        body="Something happened.",
        link=None,
        dedupe_key=key,
        read_at=utcnow() if read else None,
    )


async def test_one_query_gives_zones_unread_count_and_the_portal_session(
    container: Container,
) -> None:
    org = await create_org(container)
    viewer = await create_user(container, org, roles=[Role.DOCTOR])
    colleague = await create_user(container, org, roles=[Role.NURSE])
    family = uuid.uuid4()
    async with container.db.unit_of_work() as session:
        await session.execute(
            update(Organization)
            .where(Organization.id == org.id)
            .values(time_zone="America/Chicago")
        )
        await session.execute(
            update(User).where(User.id == viewer.id).values(time_zone="Europe/Paris")
        )
        session.add(PortalSession(family_id=family, user_id=viewer.id, remembered=True))
        session.add_all(
            [
                _notification(viewer, "a"),
                _notification(viewer, "b"),
                _notification(viewer, "c", read=True),
                _notification(colleague, "d"),
            ]
        )

    async with container.db.sessions() as session:
        repository = AccountRepository(session)
        found = await repository.page_facts(viewer.id, family, tenant=org.id)
        not_portal = await repository.page_facts(viewer.id, uuid.uuid4(), tenant=org.id)
        no_family = await repository.page_facts(colleague.id, None, tenant=org.id)
        elsewhere = await repository.page_facts(viewer.id, family, tenant=uuid.uuid4())

    assert found is not None
    own_zone, organization_zone, unread, portal_session = found
    assert (own_zone, organization_zone, unread) == ("Europe/Paris", "America/Chicago", 2)
    assert portal_session is not None
    assert (portal_session.family_id, portal_session.remembered) == (family, True)
    assert not_portal == ("Europe/Paris", "America/Chicago", 2, None)
    assert no_family == (None, "America/Chicago", 1, None)
    assert elsewhere is None
