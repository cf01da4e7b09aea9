"""All SQL of password resets, portal sessions and pending invitations.

Reset links and portal sessions are global by nature (a token digest, a
session family id); pending invitations are scoped by the tenant.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.models.accounts import PasswordReset, PortalSession
from clinvault.models.identity import Invitation, Organization, RefreshToken, User
from clinvault.notifications.repository import unread_count_of


def _rowcount(result: object) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


class AccountRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: PasswordReset | PortalSession) -> None:
        self.session.add(row)
        await self.session.flush()

    async def resets_since(
        self, *, address_key: str | None, source_key: str | None, since: datetime
    ) -> int:
        """Reset requests for one keyed address, or from one keyed client address."""
        query = (
            select(func.count()).select_from(PasswordReset).where(PasswordReset.created_at >= since)
        )
        if address_key is not None:
            query = query.where(PasswordReset.address_key == address_key)
        if source_key is not None:
            query = query.where(PasswordReset.source_key == source_key)
        return int(await self.session.scalar(query) or 0)

    async def reset_by_token_hash_global(
        self, token_hash: str
    ) -> tuple[PasswordReset, User, Organization] | None:
        row = (
            await self.session.execute(
                select(PasswordReset, User, Organization)
                .join(User, User.id == PasswordReset.user_id)
                .join(Organization, Organization.id == User.organization_id)
                .where(PasswordReset.token_hash == token_hash)
            )
        ).first()
        return None if row is None else (row[0], row[1], row[2])

    async def reset_for_mail_global(self, reset_id: uuid.UUID) -> tuple[PasswordReset, User] | None:
        row = (
            await self.session.execute(
                select(PasswordReset, User)
                .join(User, User.id == PasswordReset.user_id)
                .where(PasswordReset.id == reset_id)
            )
        ).first()
        return None if row is None else (row[0], row[1])

    async def claim_reset(self, reset_id: uuid.UUID, *, now: datetime) -> bool:
        """Spend the link; False when it was used (or expired) in the meantime."""
        result = await self.session.execute(
            update(PasswordReset)
            .where(
                PasswordReset.id == reset_id,
                PasswordReset.used_at.is_(None),
                PasswordReset.expires_at > now,
            )
            .values(used_at=now)
        )
        return _rowcount(result) == 1

    async def close_user_resets(self, user_id: uuid.UUID, *, now: datetime) -> None:
        """Every other open link of the user stops working."""
        await self.session.execute(
            update(PasswordReset)
            .where(PasswordReset.user_id == user_id, PasswordReset.used_at.is_(None))
            .values(used_at=now)
        )

    async def purge_resets(self, *, before: datetime) -> None:
        await self.session.execute(delete(PasswordReset).where(PasswordReset.created_at < before))

    async def set_password(
        self, user_id: uuid.UUID, password_hash: str, *, must_change: bool, now: datetime
    ) -> None:
        await self.session.execute(
            update(User)
            .where(User.id == user_id)
            .values(password_hash=password_hash, must_change_password=must_change, updated_at=now)
            .execution_options(synchronize_session="fetch")
        )

    async def revoke_other_sessions(
        self, user_id: uuid.UUID, *, keep: uuid.UUID | None, now: datetime
    ) -> None:
        query = update(RefreshToken).where(
            RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None)
        )
        if keep is not None:
            query = query.where(RefreshToken.family_id != keep)
        await self.session.execute(query.values(revoked_at=now))

    async def portal_session(self, family_id: uuid.UUID) -> PortalSession | None:
        result: PortalSession | None = await self.session.scalar(
            select(PortalSession).where(PortalSession.family_id == family_id)
        )
        return result

    async def page_facts(
        self, user_id: uuid.UUID, family_id: uuid.UUID | None, *, tenant: uuid.UUID
    ) -> tuple[str | None, str | None, int, PortalSession | None] | None:
        """In one round trip, what every portal page reads besides the token check: the
        user's and the organization's time zones, the unread notifications and the portal
        session (None for a family that is not one); None without the account."""
        unread = unread_count_of(user_id, tenant=tenant).scalar_subquery()
        row = (
            await self.session.execute(
                select(User.time_zone, Organization.time_zone, unread, PortalSession)
                .select_from(User)
                .join(Organization, Organization.id == User.organization_id)
                .outerjoin(PortalSession, PortalSession.family_id == family_id)
                .where(User.id == user_id, User.organization_id == tenant)
            )
        ).first()
        if row is None:
            return None
        own_zone, organization_zone, unread_count, portal_session = row
        return own_zone, organization_zone, int(unread_count or 0), portal_session

    async def touch_portal_session(
        self, family_id: uuid.UUID, user_id: uuid.UUID, *, now: datetime
    ) -> None:
        """Record activity; a family the portal has not seen yet starts as not remembered."""
        result = await self.session.execute(
            update(PortalSession)
            .where(PortalSession.family_id == family_id)
            .values(last_active_at=now)
        )
        if _rowcount(result) == 0:
            self.session.add(
                PortalSession(
                    family_id=family_id,
                    user_id=user_id,
                    remembered=False,
                    created_at=now,
                    last_active_at=now,
                )
            )
            await self.session.flush()

    async def pending_invitations(
        self, *, tenant: uuid.UUID, now: datetime, limit: int
    ) -> Sequence[Invitation]:
        return (
            await self.session.scalars(
                select(Invitation)
                .where(
                    Invitation.organization_id == tenant,
                    Invitation.accepted_at.is_(None),
                    Invitation.revoked_at.is_(None),
                    Invitation.expires_at > now,
                )
                .order_by(Invitation.created_at.desc(), Invitation.id)
                .limit(limit)
            )
        ).all()
