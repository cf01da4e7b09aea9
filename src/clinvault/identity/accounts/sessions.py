"""Portal sessions: the idle timeout and "Stay signed in on this device".

A portal sign-in records its refresh-token family in `portal_sessions`. A
session that is not remembered ends once `portal_idle_timeout_seconds` pass
without a request: the next request finds it idle, revokes the family and
answers `SessionIdle`. Its cookies are browser-session cookies, so they do not
outlive the browser either. A remembered session keeps persistent cookies,
bounded by `refresh_token_days` from sign-in, and is not ended by idleness.

Activity is written at most once per `touch_every` (a minute, or a fifth of a
short timeout) in a unit of work of its own, before the request writes anything
(ADR 6), so a page that only reads stays a read.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.bootstrap import Container
from clinvault.db import release_connection
from clinvault.errors.accounts import SessionIdle
from clinvault.identity.accounts.repository import AccountRepository
from clinvault.identity.principal import Principal
from clinvault.identity.repository import IdentityRepository
from clinvault.identity.tokens import TokenIssuer, hash_token
from clinvault.models.accounts import PortalSession
from clinvault.timeutil import utcnow

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class CookieLife:
    """How long the session's cookies live: None is until the browser closes."""

    remembered: bool
    seconds: int | None


BROWSER_SESSION = CookieLife(remembered=False, seconds=None)


@dataclass(frozen=True, slots=True)
class PageFacts:
    """The viewer's time zones, unread count and portal session, for every portal page."""

    own_zone: str | None
    organization_zone: str | None
    unread_notifications: int
    portal_session: PortalSession | None


def idle_text(seconds: int) -> str:
    if seconds % 60 == 0:
        minutes = seconds // 60
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{seconds} seconds"


class PortalSessions:
    def __init__(self, session: AsyncSession, container: Container) -> None:
        self.session = session
        self.container = container
        self.policy = container.settings.security
        self.repository = AccountRepository(session)

    @property
    def idle(self) -> timedelta:
        return timedelta(seconds=self.policy.portal_idle_timeout_seconds)

    @property
    def touch_every(self) -> timedelta:
        return min(timedelta(minutes=1), self.idle / 5)

    async def start(self, access_token: str, user_id: uuid.UUID, *, remember: bool) -> CookieLife:
        """Record a portal sign-in (in the sign-in's transaction)."""
        issuer = TokenIssuer(self.container.keys, self.policy)
        family_id = issuer.verify_access(access_token).session_id
        now = utcnow()
        ends_at = now + timedelta(days=self.policy.refresh_token_days) if remember else None
        await self.repository.add(
            PortalSession(
                family_id=family_id,
                user_id=user_id,
                remembered=remember,
                created_at=now,
                last_active_at=now,
                ends_at=ends_at,
            )
        )
        return self._life(remember, ends_at, now)

    async def family_of_refresh(self, refresh_token: str) -> tuple[uuid.UUID, uuid.UUID] | None:
        """(family, user) of a refresh token, without spending it."""
        row = await IdentityRepository(self.session).refresh_token_by_hash_global(
            hash_token(refresh_token)
        )
        return None if row is None else (row.family_id, row.user_id)

    async def page_facts(self, principal: Principal) -> PageFacts:
        """What a portal page shows besides its own content, read in one round trip."""
        found = await self.repository.page_facts(
            principal.user_id, principal.session_id, tenant=principal.organization_id
        )
        if found is None:
            return PageFacts(None, None, 0, None)
        return PageFacts(*found)

    async def check(self, family_id: uuid.UUID, user_id: uuid.UUID) -> CookieLife:
        """End and refuse a session past its idle time or its end; else note the activity."""
        return await self.check_row(
            await self.repository.portal_session(family_id), family_id, user_id
        )

    async def check_row(
        self, row: PortalSession | None, family_id: uuid.UUID, user_id: uuid.UUID
    ) -> CookieLife:
        """`check`, with the family's portal session already read (None: not one)."""
        now = utcnow()
        if row is None:
            await self._apart(lambda r: r.touch_portal_session(family_id, user_id, now=now))
            return BROWSER_SESSION
        if row.remembered:
            if row.ends_at is not None and row.ends_at <= now:
                await self._end(family_id, user_id, now)
                raise SessionIdle("Your session on this device has ended: sign in again.")
            return self._life(True, row.ends_at, now)
        if row.last_active_at + self.idle <= now:
            await self._end(family_id, user_id, now)
            context.note_detail("session_idle")
            raise SessionIdle(
                f"You were signed out after {idle_text(self.policy.portal_idle_timeout_seconds)} "
                "without activity: sign in again to continue."
            )
        if now - row.last_active_at >= self.touch_every:
            await self._apart(lambda r: r.touch_portal_session(family_id, user_id, now=now))
        return BROWSER_SESSION

    async def refuse_if_idle(self, family_id: uuid.UUID, now: datetime) -> None:
        """For a refresh outside the portal: an idle portal family refreshes nowhere."""
        row = await self.repository.portal_session(family_id)
        if row is None:
            return
        ended = row.ends_at is not None and row.ends_at <= now
        if ended or (not row.remembered and row.last_active_at + self.idle <= now):
            context.note_detail("session_idle")
            raise SessionIdle("This session ended after a period without activity: sign in again.")

    def _life(self, remembered: bool, ends_at: datetime | None, now: datetime) -> CookieLife:
        if not remembered or ends_at is None:
            return BROWSER_SESSION
        return CookieLife(remembered=True, seconds=max(1, int((ends_at - now).total_seconds())))

    async def _end(self, family_id: uuid.UUID, user_id: uuid.UUID, now: datetime) -> None:
        async def revoke(repository: AccountRepository) -> None:
            await IdentityRepository(repository.session).revoke_family(
                family_id, user_id=user_id, now=now
            )

        await self._apart(revoke)
        log.info("identity.session.idle_ended", user_id=str(user_id))

    async def _apart(self, write: Callable[[AccountRepository], Awaitable[None]]) -> None:
        """Commit `write` on its own: the request has only read so far (ADR 6)."""
        await release_connection(self.session)
        async with self.container.db.unit_of_work() as session:
            await write(AccountRepository(session))
