"""Time zones: each organization's (set by its administrator) and each user's own.

The portal shows every time in the viewer's zone: the user's, else the
organization's, else UTC. Names are IANA zone names; an unknown name is a
field error, never stored.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.bootstrap import Container
from clinvault.errors import OrganizationNotFound, RequestInvalid
from clinvault.identity import policies
from clinvault.identity.guard import SignInGuard
from clinvault.identity.principal import Principal
from clinvault.identity.repository import IdentityRepository
from clinvault.localtime import zone_or_none

ZONE_HINT = "Choose a time zone from the list, such as America/Chicago or Europe/Paris."


def checked_zone(name: str | None, field: str = "time_zone") -> str | None:
    """A known IANA zone name, None for a blank one; RequestInvalid for anything else."""
    name = (name or "").strip()
    if not name:
        return None
    zone = zone_or_none(name)
    if zone is None:
        raise RequestInvalid(
            f"{field}: not a known time zone. {ZONE_HINT}",
            errors=[{"field": field, "in": "body", "message": ZONE_HINT}],
        )
    return zone.key


class TimeZoneService:
    def __init__(self, session: AsyncSession, container: Container) -> None:
        self.session = session
        self.container = container
        self.repository = IdentityRepository(session)

    async def set_own(self, principal: Principal, name: str | None) -> str | None:
        """Set (or, with a blank name, clear) one's own time zone."""
        zone = checked_zone(name)
        user, _ = await SignInGuard(self.session, self.container).own_account(principal)
        user.time_zone = zone
        await self.session.flush()
        context.note_detail("time_zone_updated")
        return zone

    async def set_organization(self, principal: Principal, name: str | None) -> str | None:
        """Set (or clear: UTC) the organization's time zone; its administrators only."""
        organization_id = principal.organization_id
        context.describe_resource("organization", organization_id)
        policies.require(
            policies.can_set_organization_time_zone(principal, organization_id),
            "Only an organization administrator sets the organization's time zone.",
        )
        zone = checked_zone(name)
        organization = await self.repository.organization(organization_id, tenant=organization_id)
        if organization is None:
            raise OrganizationNotFound("Your organization no longer exists: sign in again.")
        organization.time_zone = zone
        await self.session.flush()
        context.note_detail("time_zone_updated")
        return zone
