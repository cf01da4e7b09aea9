"""The home page's content: what needs the signed-in user's attention today.

`build` asks each concern for its panel (None when the user's roles have no
such work) through the features' services, each a count and a few rows.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.bootstrap import Container
from clinvault.identity.principal import Principal
from clinvault.web.pages.home import schedule, work
from clinvault.web.pages.home.panels import Panel, Row, zone_of

__all__ = ["Panel", "Row", "build"]


async def build(
    session: AsyncSession, container: Container, principal: Principal, time_zone: str | None
) -> list[Panel]:
    zone = zone_of(time_zone)
    found = [
        await schedule.today(session, container, principal, zone),
        await schedule.requests(session, container, principal, zone),
        await schedule.next_visit(session, container, principal, zone),
        await work.review_queue(session, container, principal),
        await work.pharmacy_queue(session, container, principal),
        await work.new_prescriptions(session, container, principal),
        await work.expiring(session, container, principal),
        await work.members(session, container, principal),
        await work.notifications(session, principal),
    ]
    # The page is one read of the user's own home, whatever the panels looked at.
    context.describe_resource("user", principal.user_id)
    return [panel for panel in found if panel is not None]
