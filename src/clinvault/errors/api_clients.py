"""API clients: their administration and what their tokens may reach.

The token endpoint's own refusals (`invalid_client`, `invalid_scope`, ...) are
OAuth 2.0 errors (RFC 6749 section 5.2), answered as plain OAuth JSON by
identity/clients/token_routes.py, not as problem+json.
"""

from __future__ import annotations

from clinvault.errors.base import AccountLocked, Conflict, NotFound, PermissionDenied


class ApiClientNotFound(NotFound):
    code = "api_client_not_found"
    title = "API client not found"


class ApiClientRevoked(Conflict):
    code = "api_client_revoked"
    title = "The API client is revoked"


class ApiClientScopeDenied(PermissionDenied):
    code = "api_client_scope_denied"
    title = "Not within the API client's scopes"


class ApiClientThrottled(AccountLocked):
    code = "api_client_throttled"
    title = "Too many failed client authentications"
