"""Request and response bodies of API-client administration and of the token endpoint."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from clinvault.identity.clients.scopes import Scope
from clinvault.inputs import SingleLine

ClientName = Annotated[str, SingleLine(100)]


class ApiClientCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ClientName = Field(description="What the client is, e.g. the system that calls.")
    scopes: list[Scope] = Field(
        min_length=1, max_length=len(Scope), description="What the client may do."
    )


class ApiClientRead(BaseModel):
    id: uuid.UUID
    client_id: str = Field(description="The `client_id` of the client-credentials grant.")
    name: str
    scopes: list[str]
    created_at: datetime
    created_by: uuid.UUID | None
    rotated_at: datetime | None
    revoked_at: datetime | None
    active: bool


class ApiClientSecret(ApiClientRead):
    client_secret: str = Field(
        description="Shown only in this answer: store it now. Only its digest is kept."
    )


class ClientTokenResponse(BaseModel):
    """RFC 6749 section 5.1."""

    access_token: str
    token_type: str = "Bearer"
    expires_in: int
    scope: str


class OAuthErrorBody(BaseModel):
    """RFC 6749 section 5.2."""

    error: str
    error_description: str
