"""Sign-in throttling that answers the same whether an account exists or not.

Two counters stand behind every password or second-factor check:

- per identifier: the normalized email that was tried, known or not. Five
  failures (the lockout threshold) lock it with back-off, so an unknown address
  locks exactly like a real one and the answers tell nothing about existence;
- per source: the client address, across every identifier it tries. Many
  failures without a quiet gap slow that address down (429 with Retry-After),
  and the moment it trips is an audit event naming the address, never the
  identifiers it tried.

Rows are keyed by HMAC-SHA256 under a key derived from the key provider, so the
table holds neither addresses nor IPs. Counts are written in a unit of work of
their own (the request's transaction rolls back with its error), after the
request has only read; see ADR 6.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.bootstrap import Container
from clinvault.context import RequestContext
from clinvault.errors.base import AccountLocked
from clinvault.errors.identity import SignInThrottled
from clinvault.identity.throttle.repository import ThrottleRepository

log = structlog.get_logger(__name__)

ACCOUNT = "account"
SOURCE = "source"
KEY_PURPOSE = "sign-in-throttle"
SOURCE_EVENT = "auth.source.throttled"
PURGE_EVERY_SECONDS = 3600.0

_last_purge = 0.0


@dataclass(frozen=True, slots=True)
class Attempt:
    """The two throttle keys of one sign-in attempt (no source outside a request)."""

    account: str
    source: str | None
    client_ip: str | None


def _wait(until: datetime, now: datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds()))


class SignInThrottle:
    def __init__(self, container: Container) -> None:
        self.container = container
        self.policy = container.settings.security

    def _key(self, scope: str, value: str) -> str:
        secret = self.container.keys.derive(KEY_PURPOSE)
        return hmac.new(secret, f"{scope}:{value}".encode(), hashlib.sha256).hexdigest()

    def attempt(self, identifier: str) -> Attempt:
        """Keys for a normalized identifier tried from the current request's address."""
        ctx = context.current()
        ip = ctx.client_ip if ctx is not None else None
        return Attempt(
            account=self._key(ACCOUNT, identifier),
            source=None if ip is None else self._key(SOURCE, ip),
            client_ip=ip,
        )

    async def refuse_source(
        self, repository: ThrottleRepository, attempt: Attempt, now: datetime
    ) -> None:
        """429 while the client address is slowed down; checked before any account lookup."""
        if attempt.source is None:
            return
        until = (await repository.locks([attempt.source], now=now)).get(attempt.source)
        if until is None:
            return
        context.note_detail("source_throttled")
        seconds = _wait(until, now)
        raise SignInThrottled(
            "Too many failed sign-in attempts came from your network address: wait "
            f"{seconds} seconds, then try again.",
            headers={"Retry-After": str(seconds)},
        )

    async def refuse_account(
        self, repository: ThrottleRepository, attempt: Attempt, now: datetime
    ) -> None:
        """429 while the identifier is locked, whether or not an account has it."""
        until = (await repository.locks([attempt.account], now=now)).get(attempt.account)
        if until is None:
            return
        seconds = _wait(until, now)
        context.note_detail("account_locked")
        raise AccountLocked(
            "Too many failed sign-in attempts: this account is locked until "
            f"{until:%Y-%m-%d %H:%M:%S} UTC. Try again in {seconds} seconds.",
            headers={"Retry-After": str(seconds)},
        )

    async def record_failure(self, attempt: Attempt, now: datetime) -> tuple[int, datetime | None]:
        """Count the failure for the identifier and the source, in a transaction of its own.

        Returns the identifier's failure count and the end of the lock it just got, if any.
        """
        policy = self.policy
        async with self.container.db.unit_of_work() as session:
            repository = ThrottleRepository(session)
            failures_here, locked = await repository.count_failure(
                attempt.account,
                ACCOUNT,
                now=now,
                forget_before=now - timedelta(minutes=policy.lockout_forget_minutes),
                threshold=policy.lockout_threshold,
                base=policy.lockout_base_seconds,
                cap=policy.lockout_max_seconds,
            )
            if locked is not None:
                log.warning("identity.login.locked", key=attempt.account[:12])
            if attempt.source is not None:
                failures, source_locked = await repository.count_failure(
                    attempt.source,
                    SOURCE,
                    now=now,
                    forget_before=now - timedelta(minutes=policy.source_forget_minutes),
                    threshold=policy.source_failure_threshold,
                    base=policy.source_lock_base_seconds,
                    cap=policy.source_lock_max_seconds,
                )
                if source_locked is not None:
                    await self._audit_source(session, attempt, failures, source_locked, now)
            await self._purge_now_and_then(repository, now)
        return failures_here, locked

    async def clear_account(self, repository: ThrottleRepository, attempt: Attempt) -> None:
        """A successful sign-in forgets the identifier's failures (never the source's)."""
        await repository.clear(attempt.account)

    async def forget_identifier(self, session: AsyncSession, identifier: str) -> None:
        """Unlock a normalized identifier now (an operator resetting an account)."""
        await ThrottleRepository(session).clear(self._key(ACCOUNT, identifier))

    async def _audit_source(
        self,
        session: AsyncSession,
        attempt: Attempt,
        failures: int,
        until: datetime,
        now: datetime,
    ) -> None:
        ctx = context.current()
        event = RequestContext(
            request_id=ctx.request_id if ctx is not None else "",
            method=ctx.method if ctx is not None else "",
            path=ctx.path if ctx is not None else "",
            client_ip=attempt.client_ip,
            user_agent=ctx.user_agent if ctx is not None else None,
            action=SOURCE_EVENT,
            resource_type="sign_in_source",
            audit_detail=f"{failures} failed sign-ins; slowed down for {_wait(until, now)} s",
        )
        await self.container.audit.record(session, event, 429)
        log.warning("identity.login.source_throttled", failures=failures)

    async def _purge_now_and_then(self, repository: ThrottleRepository, now: datetime) -> None:
        global _last_purge
        if time.monotonic() - _last_purge < PURGE_EVERY_SECONDS:
            return
        _last_purge = time.monotonic()
        policy = self.policy
        minutes = max(policy.lockout_forget_minutes, policy.source_forget_minutes)
        await repository.purge(before=now - timedelta(minutes=minutes))
