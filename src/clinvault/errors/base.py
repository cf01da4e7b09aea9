"""The base of the hierarchy and the generic problems every feature reuses."""

from __future__ import annotations

from typing import Any, ClassVar


class AppError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}

    def problem(self, instance: str, request_id: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://clinvault.dev/problems/{self.code.replace('_', '-')}",
            "title": self.title,
            "status": self.status,
            "code": self.code,
            "detail": self.detail,
            "instance": instance,
            "request_id": request_id,
        }
        if self.errors:
            body["errors"] = self.errors
        return body


class RequestInvalid(AppError):
    status = 422
    code = "request_invalid"
    title = "The request is not valid"


class BodyMalformed(AppError):
    status = 400
    code = "body_malformed"
    title = "The request body could not be read"


class BodyTooLarge(AppError):
    status = 413
    code = "body_too_large"
    title = "The request body is too large"


class AuthenticationRequired(AppError):
    status = 401
    code = "authentication_required"
    title = "Authentication required"

    def __init__(self, detail: str, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": 'Bearer realm="clinvault"'})
        super().__init__(detail, **kwargs)


class TokenInvalid(AuthenticationRequired):
    code = "token_invalid"
    title = "The token is not valid"


class TokenExpired(AuthenticationRequired):
    code = "token_expired"
    title = "The token has expired"


class CredentialsInvalid(AuthenticationRequired):
    code = "credentials_invalid"
    title = "Wrong email or password"


class MfaRequired(AuthenticationRequired):
    code = "mfa_required"
    title = "A second factor is required"


class MfaInvalid(AuthenticationRequired):
    code = "mfa_invalid"
    title = "The second-factor code is not valid"


class RefreshTokenReused(AuthenticationRequired):
    code = "refresh_token_reused"
    title = "The refresh token was already used"


class AccountLocked(AppError):
    status = 429
    code = "account_locked"
    title = "Too many failed sign-in attempts"


class PermissionDenied(AppError):
    status = 403
    code = "permission_denied"
    title = "Not allowed"


class CsrfFailed(AppError):
    status = 403
    code = "csrf_failed"
    title = "The form could not be verified"


class NotFound(AppError):
    status = 404
    code = "not_found"
    title = "Not found"


class Conflict(AppError):
    status = 409
    code = "conflict"
    title = "Conflict"


class Gone(AppError):
    status = 410
    code = "gone"
    title = "No longer available"


class MethodNotAllowed(AppError):
    status = 405
    code = "method_not_allowed"
    title = "Method not allowed"


class UnsupportedMediaType(AppError):
    status = 415
    code = "unsupported_media_type"
    title = "Unsupported media type"


class ServiceUnavailable(AppError):
    status = 503
    code = "service_unavailable"
    title = "A dependency is unavailable"


class DatabaseUnavailable(ServiceUnavailable):
    code = "database_unavailable"
    title = "The database is unavailable"
