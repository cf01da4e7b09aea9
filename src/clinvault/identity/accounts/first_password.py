"""Choosing one's own password: required after an administrator created the account.

An account created by an administrator with a password (POST /api/users/) is
flagged `must_change_password`: until its holder chooses a password of their
own, the API answers 403 `password_change_required` everywhere except the
profile, sign-out and password change, and the portal shows only the
"Choose your password" page. Choosing here keeps the current session and
ends every other one.
"""

from __future__ import annotations

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.bootstrap import Container
from clinvault.db import after_commit, release_connection
from clinvault.errors import RequestInvalid
from clinvault.identity.accounts.repository import AccountRepository
from clinvault.identity.guard import SignInGuard
from clinvault.identity.passwords import check_policy, hash_password, verify_password
from clinvault.identity.principal import Principal
from clinvault.identity.workflows import start_security_notice
from clinvault.timeutil import utcnow

log = structlog.get_logger(__name__)


def field_error(field: str, message: str) -> RequestInvalid:
    return RequestInvalid(
        f"{field}: {message}.", errors=[{"field": field, "in": "body", "message": message}]
    )


class PasswordChoiceService:
    def __init__(self, session: AsyncSession, container: Container) -> None:
        self.session = session
        self.container = container
        self.repository = AccountRepository(session)

    async def choose(self, principal: Principal, current_password: str, new_password: str) -> None:
        user, _ = await SignInGuard(self.session, self.container).own_account(principal)
        stored = user.password_hash
        await release_connection(self.session)
        if not (await verify_password(stored, current_password)).ok:
            context.note_detail("current_password_wrong")
            raise field_error(
                "current_password",
                "not your current password: type the one you were given again",
            )
        check_policy(new_password, min_length=self.container.settings.security.password_min_length)
        if (await verify_password(stored, new_password)).ok:
            raise field_error("new_password", "choose a password different from your current one")
        password_hash = await hash_password(new_password)
        now = utcnow()
        await self.repository.set_password(user.id, password_hash, must_change=False, now=now)
        await self.repository.revoke_other_sessions(user.id, keep=principal.session_id, now=now)
        context.note_detail("password_chosen")
        container, user_id = self.container, user.id
        after_commit(
            self.session,
            lambda: start_security_notice(container, user_id, "password_changed", now),
        )
        log.info("identity.password.chosen", user_id=str(user.id))
