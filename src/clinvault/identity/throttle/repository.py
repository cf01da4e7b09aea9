"""All SQL of the sign-in throttle: one row per keyed identifier or client address."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, case, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.models.identity import SignInThrottle

_TABLE = SignInThrottle.__table__


class ThrottleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def locks(self, keys: Sequence[str], *, now: datetime) -> dict[str, datetime]:
        """The lock end of each of `keys` that is locked at `now`."""
        rows = await self.session.execute(
            select(SignInThrottle.key, SignInThrottle.locked_until).where(
                SignInThrottle.key.in_(list(keys)), SignInThrottle.locked_until > now
            )
        )
        return {key: until for key, until in rows.all() if until is not None}

    async def count_failure(
        self,
        key: str,
        scope: str,
        *,
        now: datetime,
        forget_before: datetime,
        threshold: int,
        base: int,
        cap: int,
    ) -> tuple[int, datetime | None]:
        """Count one failure atomically; return the count and the lock end at the threshold.

        A count whose last failure and lock both ended before `forget_before`
        starts again at one. At the threshold the lock lasts `base` seconds and
        doubles with each further failure, up to `cap`.
        """
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        forgotten = and_(
            SignInThrottle.last_failure_at < forget_before,
            or_(
                SignInThrottle.locked_until.is_(None),
                SignInThrottle.locked_until < forget_before,
            ),
        )
        statement = (
            insert(SignInThrottle)
            .values(key=key, scope=scope, failures=1, last_failure_at=now, locked_until=None)
            .on_conflict_do_update(
                index_elements=[_TABLE.c.key],
                set_={
                    "failures": case((forgotten, 1), else_=SignInThrottle.failures + 1),
                    "last_failure_at": now,
                },
            )
            .returning(SignInThrottle.failures)
        )
        failures = int((await self.session.execute(statement)).scalar_one())
        if failures < threshold:
            return failures, None
        seconds = min(base * 2 ** min(failures - threshold, 32), cap)
        locked_until = now + timedelta(seconds=seconds)
        await self.session.execute(
            update(SignInThrottle)
            .where(SignInThrottle.key == key)
            .values(locked_until=locked_until)
        )
        return failures, locked_until

    async def clear(self, key: str) -> None:
        await self.session.execute(delete(SignInThrottle).where(SignInThrottle.key == key))

    async def purge(self, *, before: datetime) -> int:
        """Delete the rows with no failure and no lock since `before`."""
        result = await self.session.execute(
            delete(SignInThrottle).where(
                SignInThrottle.last_failure_at < before,
                or_(SignInThrottle.locked_until.is_(None), SignInThrottle.locked_until < before),
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)
