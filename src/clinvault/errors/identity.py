"""Identity: sign-in, tokens, MFA, accounts, organizations, invitations."""

from __future__ import annotations

from typing import Any

from clinvault.errors.base import (
    AccountLocked,
    Conflict,
    Gone,
    MfaRequired,
    NotFound,
    PermissionDenied,
    RequestInvalid,
    ServiceUnavailable,
)


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


class SelfDeactivationRefused(Conflict):
    code = "self_deactivation_refused"
    title = "You cannot deactivate your own account"


class LastOrgAdminRequired(Conflict):
    code = "last_org_admin_required"
    title = "The organization needs an administrator"


class AuditWindowTooLarge(RequestInvalid):
    code = "audit_window_too_large"
    title = "The time window is too large"


class SignInThrottled(AccountLocked):
    code = "sign_in_throttled"
    title = "Too many failed sign-in attempts from this address"


class RoleNotForOrganization(RoleNotAllowed):
    """A role this kind of organization cannot hold (see identity/roles.py)."""

    status = 422
    code = "role_not_for_organization"
    title = "The role does not exist in this kind of organization"
