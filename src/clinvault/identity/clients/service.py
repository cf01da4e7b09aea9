"""API-client administration: create, list, read, rotate the secret, revoke.

The secret is 256 random bits shown once; only its SHA-256 digest is stored
(a digest suffices for a random secret of that size: nothing to guess, so no
slow password hash is needed; ADR 22).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.bootstrap import Container
from clinvault.errors.api_clients import ApiClientNotFound, ApiClientRevoked
from clinvault.identity.clients.policies import can_manage_clients
from clinvault.identity.clients.repository import ApiClientRepository
from clinvault.identity.clients.schemas import ApiClientCreate, ApiClientRead, ApiClientSecret
from clinvault.identity.policies import require
from clinvault.identity.principal import Principal
from clinvault.models.identity import ApiClient
from clinvault.timeutil import utcnow

log = structlog.get_logger(__name__)

SECRET_PREFIX = "cvs_"
MANAGE_DENIED = "Only your organization's administrators manage API clients."
NOT_FOUND = "No API client with this id in your organization: list them with GET /api/clients."


def new_secret() -> tuple[str, str]:
    """A fresh client secret (256 random bits) and the digest to store."""
    raw = SECRET_PREFIX + secrets.token_urlsafe(32)
    return raw, secret_digest(raw)


def secret_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def read_model(client: ApiClient) -> ApiClientRead:
    return ApiClientRead(
        id=client.id,
        client_id=str(client.id),
        name=client.name,
        scopes=sorted(client.scopes),
        created_at=client.created_at,
        created_by=client.created_by,
        rotated_at=client.rotated_at,
        revoked_at=client.revoked_at,
        active=client.revoked_at is None,
    )


def _with_secret(client: ApiClient, secret: str) -> ApiClientSecret:
    return ApiClientSecret(**read_model(client).model_dump(), client_secret=secret)


class ApiClientService:
    def __init__(self, session: AsyncSession, container: Container) -> None:
        self.container = container
        self.repository = ApiClientRepository(session)

    async def create(self, principal: Principal, data: ApiClientCreate) -> ApiClientSecret:
        context.describe_resource("api_client")
        require(can_manage_clients(principal), MANAGE_DENIED)
        secret, digest = new_secret()
        client = ApiClient(
            organization_id=principal.organization_id,
            name=data.name,
            scopes=sorted({scope.value for scope in data.scopes}),
            secret_hash=digest,
            secret_version=1,
            created_by=principal.account_id,
        )
        await self.repository.add(client)
        context.describe_resource("api_client", client.id)
        log.info("identity.api_client.created", api_client_id=str(client.id))
        return _with_secret(client, secret)

    async def list(self, principal: Principal) -> list[ApiClientRead]:
        context.describe_resource("api_client")
        require(can_manage_clients(principal), MANAGE_DENIED)
        return [read_model(c) for c in await self.repository.list(tenant=principal.organization_id)]

    async def read(self, principal: Principal, client_id: uuid.UUID) -> ApiClientRead:
        return read_model(await self._managed(principal, client_id))

    async def rotate(self, principal: Principal, client_id: uuid.UUID) -> ApiClientSecret:
        """A new secret; the old one and every token issued under it stop working."""
        client = await self._managed(principal, client_id)
        if client.revoked_at is not None:
            raise ApiClientRevoked(
                "This API client is revoked: create a new client instead of rotating its secret."
            )
        secret, digest = new_secret()
        client.secret_hash = digest
        client.secret_version += 1
        client.rotated_at = utcnow()
        await self.repository.flush()
        log.info("identity.api_client.rotated", api_client_id=str(client.id))
        return _with_secret(client, secret)

    async def revoke(self, principal: Principal, client_id: uuid.UUID) -> ApiClientRead:
        """The client can no longer get tokens, and its tokens fail at their next request."""
        client = await self._managed(principal, client_id)
        if client.revoked_at is None:
            client.revoked_at = utcnow()
            await self.repository.flush()
            log.info("identity.api_client.revoked", api_client_id=str(client.id))
        return read_model(client)

    async def _managed(self, principal: Principal, client_id: uuid.UUID) -> ApiClient:
        context.describe_resource("api_client", client_id)
        client = await self.repository.get(client_id, tenant=principal.organization_id)
        if client is None:
            raise ApiClientNotFound(NOT_FOUND)
        require(can_manage_clients(principal), MANAGE_DENIED)
        return client
