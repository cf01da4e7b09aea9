"""All SQL of the object reconcile: which stored keys have an `encrypted_objects` row.

The reconcile acts for the system across tenants: lookups named `*_global`
start from keys found in storage; the per-organization read takes its tenant.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.models.ingest import IngestUpload
from clinvault.models.objects import EncryptedObject


class ObjectRowRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def keys_with_rows_global(self, keys: Sequence[str]) -> set[str]:
        """The subset of `keys` that some row names as its storage key."""
        if not keys:
            return set()
        found = await self.session.scalars(
            select(EncryptedObject.storage_key).where(EncryptedObject.storage_key.in_(keys))
        )
        return set(found)

    async def awaited_uploads_global(self, keys: Sequence[str], now: datetime) -> set[str]:
        """The subset of `keys` that are CSV files PUT straight to S3 and not yet
        re-encrypted: their upload is unexpired and awaiting completion, or completed and
        awaiting its job (clinvault.ingest.direct)."""
        if not keys:
            return set()
        found = await self.session.scalars(
            select(IngestUpload.storage_key).where(
                IngestUpload.storage_key.in_(keys),
                or_(
                    and_(IngestUpload.status == "presigned", IngestUpload.expires_at > now),
                    IngestUpload.status == "staged",
                ),
            )
        )
        return set(found)

    async def rows_created_before(
        self,
        *,
        tenant: uuid.UUID,
        before: datetime,
        after_id: uuid.UUID | None,
        limit: int,
    ) -> list[tuple[uuid.UUID, str]]:
        """(id, storage key) of the tenant's rows created before `before`, in id order."""
        query = (
            select(EncryptedObject.id, EncryptedObject.storage_key)
            .where(
                EncryptedObject.organization_id == tenant,
                EncryptedObject.created_at < before,
            )
            .order_by(EncryptedObject.id)
            .limit(limit)
        )
        if after_id is not None:
            query = query.where(EncryptedObject.id > after_id)
        rows = await self.session.execute(query)
        return [(row_id, key) for row_id, key in rows]

    async def organizations_with_rows_global(self, before: datetime) -> list[uuid.UUID]:
        """Every organization owning a row created before `before`."""
        found = await self.session.scalars(
            select(EncryptedObject.organization_id)
            .where(EncryptedObject.created_at < before)
            .distinct()
        )
        return list(found)
