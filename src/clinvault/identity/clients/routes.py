"""HTTP routes of API clients: their administration (/api/clients, problem+json errors) and
the OAuth 2.0 token endpoint (POST /api/auth/token, OAuth JSON errors per RFC 6749 5.2)."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse

from clinvault import context
from clinvault.api_contract import KEEP_CONTENT, problem_responses
from clinvault.deps import ContainerDep, PrincipalDep, SessionDep
from clinvault.identity.clients.schemas import (
    ApiClientCreate,
    ApiClientRead,
    ApiClientSecret,
    ClientTokenResponse,
    OAuthErrorBody,
)
from clinvault.identity.clients.scopes import SCOPE_MEANING
from clinvault.identity.clients.service import ApiClientService
from clinvault.identity.clients.token_service import ClientTokenGrant, OAuthRefusal

clients = APIRouter(
    prefix="/api/clients", tags=["api clients"], responses=problem_responses(404, 409)
)
token = APIRouter(prefix="/api/auth", tags=["auth"])

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
FORM = "application/x-www-form-urlencoded"
MAX_FIELDS = 50
PARAMETERS = frozenset({"grant_type", "scope", "client_id", "client_secret"})
_SCOPES = "; ".join(f"`{scope.value}`: {meaning}" for scope, meaning in SCOPE_MEANING.items())

_TOKEN_FORM: dict[str, Any] = {
    "required": True,
    "content": {
        FORM: {
            "schema": {
                "type": "object",
                "required": ["grant_type"],
                "properties": {
                    "grant_type": {"type": "string", "enum": ["client_credentials"]},
                    "scope": {"type": "string", "description": "Space-separated; default all."},
                    "client_id": {"type": "string", "description": "Unless HTTP Basic is used."},
                    "client_secret": {"type": "string"},
                },
            }
        }
    },
}
_OAUTH_ERROR: dict[str, Any] = {"model": OAuthErrorBody, KEEP_CONTENT: True}


async def _form(request: Request) -> dict[str, str]:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != FORM:
        raise OAuthRefusal(
            "invalid_request",
            f"Send the parameters form-encoded, with 'Content-Type: {FORM}'.",
        )
    try:
        text = (await request.body()).decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise OAuthRefusal(
            "invalid_request", "The form body is not valid UTF-8 form encoding."
        ) from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name not in PARAMETERS:
            continue  # RFC 6749 section 3.2: unrecognized parameters are ignored
        if name in form:
            raise OAuthRefusal("invalid_request", f"Send the parameter '{name}' only once.")
        form[name] = value
    return form


@token.post(
    "/token",
    name="auth.token",
    response_model=ClientTokenResponse,
    responses={
        400: {
            **_OAUTH_ERROR,
            "description": "invalid_request, unsupported_grant_type, "
            "invalid_scope (OAuth JSON, RFC 6749 section 5.2)",
        },
        401: {**_OAUTH_ERROR, "description": "invalid_client (OAuth JSON)"},
        **problem_responses(429),
    },
    openapi_extra={"requestBody": _TOKEN_FORM},
)
async def issue_token(request: Request, session: SessionDep, container: ContainerDep) -> Any:
    """An API client's access token: the OAuth 2.0 client-credentials grant (RFC 6749 4.4).

    Authenticate with HTTP Basic (`client_id:client_secret`) or with `client_id` and
    `client_secret` in the form body. Errors are OAuth JSON (`error`,
    `error_description`), not problem+json; too many failures answer 429 (problem+json).
    """
    try:
        form = await _form(request)
        answer = await ClientTokenGrant(session, container).exchange(
            form, request.headers.get("authorization")
        )
    except OAuthRefusal as refusal:
        context.note_status(refusal.status)
        body = OAuthErrorBody(error=refusal.error, error_description=refusal.description)
        return JSONResponse(
            body.model_dump(),
            status_code=refusal.status,
            headers={**NO_STORE, **refusal.headers},
        )
    return JSONResponse(answer.model_dump(), headers=NO_STORE)


@clients.post(
    "",
    name="api_clients.create",
    status_code=status.HTTP_201_CREATED,
    description=f"Scopes: {_SCOPES}.",
)
async def create_client(
    body: ApiClientCreate, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> ApiClientSecret:
    """Create an API client (organization administrators); the secret is shown only here."""
    return await ApiClientService(session, container).create(principal, body)


@clients.get("", name="api_clients.list")
async def list_clients(
    principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> list[ApiClientRead]:
    """Your organization's API clients, revoked ones included, newest first."""
    return await ApiClientService(session, container).list(principal)


@clients.get("/{client_id}", name="api_clients.read")
async def read_client(
    client_id: uuid.UUID, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> ApiClientRead:
    return await ApiClientService(session, container).read(principal, client_id)


@clients.post("/{client_id}/rotate-secret", name="api_clients.rotate")
async def rotate_secret(
    client_id: uuid.UUID, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> ApiClientSecret:
    """A new secret, shown only here; the old secret and its tokens stop working at once."""
    return await ApiClientService(session, container).rotate(principal, client_id)


@clients.post("/{client_id}/revoke", name="api_clients.revoke")
async def revoke_client(
    client_id: uuid.UUID, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> ApiClientRead:
    """The client gets no more tokens, and its tokens fail at their next request."""
    return await ApiClientService(session, container).revoke(principal, client_id)


routers: list[APIRouter] = [token, clients]
