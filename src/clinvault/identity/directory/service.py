"""Who is who in an organization, for pages that let people type a name instead of an id.

Staff names and emails are not PHI, but a patient's account name is: the
look-up is open only to those who may list the organization's members.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.identity import policies
from clinvault.identity.directory.repository import DirectoryRepository
from clinvault.identity.policies import require
from clinvault.identity.principal import Principal

MATCH_LIMIT = 20


@dataclass(frozen=True, slots=True)
class Member:
    id: uuid.UUID
    name: str
    email: str
    roles: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.name} ({self.email})" if self.name else self.email


@dataclass(frozen=True, slots=True)
class AdminContacts:
    organization_name: str
    admins: tuple[tuple[uuid.UUID, str], ...]


class DirectoryService:
    def __init__(self, session: AsyncSession) -> None:
        self.repository = DirectoryRepository(session)

    def _tenant(self, principal: Principal) -> uuid.UUID | None:
        return None if principal.is_platform_admin else principal.organization_id

    async def find_members(self, principal: Principal, text: str) -> list[Member]:
        """Members of the principal's organization (every one, for a platform admin) whose
        display name or email contains `text`, case-insensitively; at most MATCH_LIMIT."""
        require(
            policies.can_list_users(principal, principal.organization_id),
            "Only organization administrators can look members up by name.",
        )
        needle = " ".join(text.split())
        if not needle:
            return []
        rows = await self.repository.matching(
            needle, tenant=self._tenant(principal), limit=MATCH_LIMIT
        )
        return [Member(id=i, name=n, email=e, roles=tuple(r)) for i, n, e, r in rows]

    async def names(self, principal: Principal, user_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
        """Display names of the given members that the principal may list."""
        if not policies.can_list_users(principal, principal.organization_id):
            return {}
        return await self.repository.names(user_ids, tenant=self._tenant(principal))


async def admin_contacts(session: AsyncSession, organization_id: uuid.UUID) -> AdminContacts:
    """The active administrators of an organization, for security alerts (system use)."""
    name, admins = await DirectoryRepository(session).active_admins_global(organization_id)
    return AdminContacts(organization_name=name, admins=tuple(admins))
