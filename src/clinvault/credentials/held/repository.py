"""All SQL of held uploads; every read is scoped by organization and user."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.models.held_uploads import HeldUpload
from clinvault.models.objects import EncryptedObject


class HeldUploadRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, stored: EncryptedObject, held: HeldUpload) -> None:
        self.session.add(stored)
        await self.session.flush()
        self.session.add(held)
        await self.session.flush()

    async def owned(
        self,
        ids: Sequence[uuid.UUID],
        *,
        tenant: uuid.UUID,
        user_id: uuid.UUID,
        now: datetime,
    ) -> list[tuple[HeldUpload, EncryptedObject]]:
        """The unexpired held files among `ids` that belong to this user of this tenant."""
        if not ids:
            return []
        rows = await self.session.execute(
            select(HeldUpload, EncryptedObject)
            .join(EncryptedObject, EncryptedObject.id == HeldUpload.object_id)
            .where(
                HeldUpload.id.in_(list(ids)),
                HeldUpload.organization_id == tenant,
                HeldUpload.user_id == user_id,
                HeldUpload.expires_at > now,
            )
        )
        return [(held, stored) for held, stored in rows.tuples()]

    async def expired(self, now: datetime, limit: int) -> list[tuple[HeldUpload, EncryptedObject]]:
        """Held files past their time, every tenant (the purge runs outside any request)."""
        rows = await self.session.execute(
            select(HeldUpload, EncryptedObject)
            .join(EncryptedObject, EncryptedObject.id == HeldUpload.object_id)
            .where(HeldUpload.expires_at <= now)
            .order_by(HeldUpload.expires_at)
            .limit(limit)
        )
        return [(held, stored) for held, stored in rows.tuples()]

    async def remove(self, pairs: Sequence[tuple[HeldUpload, EncryptedObject]]) -> None:
        if not pairs:
            return
        await self.session.execute(
            delete(HeldUpload).where(HeldUpload.id.in_([held.id for held, _ in pairs]))
        )
        await self.session.execute(
            delete(EncryptedObject).where(EncryptedObject.id.in_([obj.id for _, obj in pairs]))
        )
