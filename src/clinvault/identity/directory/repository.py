"""All SQL of the member directory: name and email look-ups, administrators to alert."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.models.identity import Organization, User


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class DirectoryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def matching(
        self, needle: str, *, tenant: uuid.UUID | None, limit: int
    ) -> Sequence[tuple[uuid.UUID, str, str, list[str]]]:
        """(id, display name, email, roles) of members whose name or email contains `needle`."""
        pattern = f"%{_escaped(needle.lower())}%"
        query = select(User.id, User.display_name, User.email, User.roles).where(
            or_(
                func.lower(User.display_name).like(pattern, escape="\\"),
                func.lower(User.email).like(pattern, escape="\\"),
            )
        )
        if tenant is not None:
            query = query.where(User.organization_id == tenant)
        rows = await self.session.execute(query.order_by(User.display_name, User.id).limit(limit))
        return [(row[0], row[1] or "", row[2], list(row[3] or [])) for row in rows]

    async def names(
        self, user_ids: Sequence[uuid.UUID], *, tenant: uuid.UUID | None
    ) -> dict[uuid.UUID, str]:
        """Display names (or emails) of these members."""
        if not user_ids:
            return {}
        query = select(User.id, User.display_name, User.email).where(
            User.id.in_(sorted(set(user_ids)))
        )
        if tenant is not None:
            query = query.where(User.organization_id == tenant)
        return {row[0]: row[1] or row[2] for row in await self.session.execute(query)}

    async def active_admins_global(
        self, organization_id: uuid.UUID
    ) -> tuple[str, list[tuple[uuid.UUID, str]]]:
        """The organization's name and its active org_admin members' (id, email)."""
        name = await self.session.scalar(
            select(Organization.name).where(Organization.id == organization_id)
        )
        rows = await self.session.execute(
            select(User.id, User.email)
            .where(
                User.organization_id == organization_id,
                User.is_active.is_(True),
                cast(User.roles, String).contains('"org_admin"', autoescape=True),
            )
            .order_by(User.email)
        )
        return str(name or ""), [(row[0], row[1]) for row in rows]
