"""The one error hierarchy, rendered once as RFC 9457 problem+json.

Each error names a stable machine `code` and a human `detail` that tells the
caller how to fix the request. Details never carry PHI values.
"""

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


class MfaChallenge(MfaRequired):
    """Password accepted; the body carries the `mfa_token` for POST /api/auth/login/mfa."""

    def __init__(self, detail: str, *, mfa_token: str, **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        self.mfa_token = mfa_token

    def problem(self, instance: str, request_id: str) -> dict[str, Any]:
        body = super().problem(instance, request_id)
        body["mfa_token"] = self.mfa_token
        return body


class PasswordTooWeak(RequestInvalid):
    code = "password_too_weak"
    title = "The password is too weak"


class AccountDisabled(PermissionDenied):
    code = "account_disabled"
    title = "The account is disabled"


class RegistrationClosed(PermissionDenied):
    code = "registration_closed"
    title = "Registration is closed"


class RoleNotAllowed(PermissionDenied):
    code = "role_not_allowed"
    title = "The role cannot be granted here"


class OrganizationNotFound(NotFound):
    code = "organization_not_found"
    title = "Organization not found"


class UserNotFound(NotFound):
    code = "user_not_found"
    title = "User not found"


class InvitationNotFound(NotFound):
    code = "invitation_not_found"
    title = "Invitation not found"


class InvitationExpired(Gone):
    code = "invitation_expired"
    title = "The invitation has expired"


class InvitationUsed(Gone):
    code = "invitation_used"
    title = "The invitation was already used"


class InvitationRevoked(Gone):
    code = "invitation_revoked"
    title = "The invitation was revoked"


class EmailUnavailable(Conflict):
    code = "email_unavailable"
    title = "The email address cannot be used"


class OrganizationSlugTaken(Conflict):
    code = "organization_slug_taken"
    title = "The organization slug is taken"


class MfaStateConflict(Conflict):
    code = "mfa_state_conflict"
    title = "Two-factor authentication is not in the required state"


class IdentityProviderUnavailable(ServiceUnavailable):
    code = "identity_provider_unavailable"
    title = "The identity provider cannot be reached"
