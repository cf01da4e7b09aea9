"""Accounts: password-reset links, the first-sign-in password choice."""

from __future__ import annotations

from clinvault.errors.base import AccountLocked, Gone, NotFound, PermissionDenied, TokenExpired


class PasswordResetNotFound(NotFound):
    code = "password_reset_not_found"
    title = "The password-reset link is not valid"


class PasswordResetExpired(Gone):
    code = "password_reset_expired"
    title = "The password-reset link has expired"


class PasswordResetUsed(Gone):
    code = "password_reset_used"
    title = "The password-reset link was already used"


class PasswordResetThrottled(AccountLocked):
    code = "password_reset_throttled"
    title = "Too many password-reset requests from this address"


class PasswordChangeRequired(PermissionDenied):
    code = "password_change_required"
    title = "Choose your own password first"


class SessionIdle(TokenExpired):
    code = "session_idle"
    title = "The session ended after a period without activity"
