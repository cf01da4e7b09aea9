"""A signed-in user's own profile and password (the records-platform design's account API)."""

from __future__ import annotations

import zoneinfo

from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.bootstrap import Container
from clinvault.db import release_connection
from clinvault.errors import RequestInvalid
from clinvault.identity.admin_service import user_read
from clinvault.identity.guard import SignInGuard
from clinvault.identity.passwords import check_policy, hash_password, verify_password
from clinvault.identity.principal import Principal
from clinvault.identity.repository import IdentityRepository
from clinvault.identity.schemas import PasswordChange, ProfileUpdate, UserRead
from clinvault.records.phones import PhoneInvalid, to_e164
from clinvault.timeutil import utcnow


def _field_error(field: str, message: str) -> RequestInvalid:
    return RequestInvalid(
        f"{field}: {message}.",
        errors=[{"field": field, "in": "body", "message": message}],
    )


def _time_zone(name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise _field_error(
            "time_zone", "use an IANA time zone name such as Europe/Paris or America/New_York"
        ) from None
    return name


class ProfileService:
    def __init__(self, session: AsyncSession, container: Container) -> None:
        self.session = session
        self.container = container
        self.repository = IdentityRepository(session)
        self.guard = SignInGuard(session, container)

    async def update(self, principal: Principal, body: ProfileUpdate) -> UserRead:
        user, organization_name = await self.guard.own_account(principal)
        given = body.model_fields_set
        if {"first_name", "last_name"} & given and "display_name" not in given:
            first = body.first_name or ""
            last = body.last_name or ""
            if not (first or last):
                raise _field_error("first_name", "give a first or last name")
            user.display_name = f"{first} {last}".strip()
        elif body.display_name is not None:
            user.display_name = body.display_name
        if "phone" in given:
            if body.phone is None:
                user.phone = None
            else:
                code = self.container.settings.records.default_phone_country_code
                try:
                    user.phone = to_e164(body.phone, code)
                except PhoneInvalid as exc:
                    raise _field_error("phone", str(exc)) from None
        if "time_zone" in given:
            user.time_zone = None if body.time_zone is None else _time_zone(body.time_zone)
        await self.session.flush()
        context.note_detail("profile_updated")
        return user_read(user, organization_name)

    async def change_password(self, principal: Principal, body: PasswordChange) -> None:
        """Change one's own password; every other session of the account ends."""
        user, _ = await self.guard.own_account(principal)
        stored = user.password_hash
        await release_connection(self.session)
        verification = await verify_password(stored, body.current_password)
        if not verification.ok:
            context.note_detail("current_password_wrong")
            raise _field_error(
                "current_password",
                "not the account's current password; type it again, or ask an administrator "
                "to reset it",
            )
        check_policy(
            body.new_password, min_length=self.container.settings.security.password_min_length
        )
        user.password_hash = await hash_password(body.new_password)
        user.must_change_password = False
        now = utcnow()
        await self.repository.revoke_user_sessions(user.id, now=now)
        await self.session.flush()
