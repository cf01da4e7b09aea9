"""All SQL of API clients. Every query takes the tenant, except the look-up by id of a
client presenting its credentials (global by nature, and says so in its name)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.models.identity import ApiClient, Organization


class ApiClientRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, client: ApiClient) -> None:
        self.session.add(client)
        await self.session.flush()

    async def flush(self) -> None:
        await self.session.flush()

    async def get(self, client_id: uuid.UUID, *, tenant: uuid.UUID) -> ApiClient | None:
        found = await self.session.scalars(
            select(ApiClient).where(ApiClient.id == client_id, ApiClient.organization_id == tenant)
        )
        return found.first()

    async def list(self, *, tenant: uuid.UUID) -> Sequence[ApiClient]:
        found = await self.session.scalars(
            select(ApiClient)
            .where(ApiClient.organization_id == tenant)
            .order_by(ApiClient.created_at.desc(), ApiClient.id.desc())
        )
        return found.all()

    async def presenting_global(self, client_id: uuid.UUID) -> ApiClient | None:
        """The client that presents these credentials, if it is live: not revoked, and its
        organization active."""
        found = await self.session.scalars(
            select(ApiClient)
            .join(Organization, Organization.id == ApiClient.organization_id)
            .where(
                ApiClient.id == client_id,
                ApiClient.revoked_at.is_(None),
                Organization.is_active.is_(True),
            )
        )
        return found.first()

    async def live(self, client_id: uuid.UUID, *, tenant: uuid.UUID) -> ApiClient | None:
        """The client behind an access token, if it is still live (checked on every request)."""
        found = await self.session.scalars(
            select(ApiClient)
            .join(Organization, Organization.id == ApiClient.organization_id)
            .where(
                ApiClient.id == client_id,
                ApiClient.organization_id == tenant,
                ApiClient.revoked_at.is_(None),
                Organization.is_active.is_(True),
            )
        )
        return found.first()
