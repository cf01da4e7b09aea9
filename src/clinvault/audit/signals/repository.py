"""All SQL of the audit signals: failed sign-ins counted from the log, alert bookkeeping."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import case, func, literal, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.audit.suspicious import LOGIN_ACTIONS, LOGIN_STEPS
from clinvault.models.audit import AuditEvent, AuditSignalAlert


class SignalRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def failed_sign_ins(self, organization_id: uuid.UUID, *, since: datetime) -> int:
        """Refused sign-ins to the organization's accounts recorded at or after `since`."""
        query = (
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.organization_id == organization_id,
                AuditEvent.occurred_at >= since,
                AuditEvent.action.in_(sorted(LOGIN_ACTIONS)),
                AuditEvent.outcome == "denied",
                or_(AuditEvent.detail.is_(None), AuditEvent.detail.not_in(sorted(LOGIN_STEPS))),
            )
        )
        return int(await self.session.scalar(query) or 0)

    async def claim_alert(
        self,
        *,
        key: str,
        organization_id: uuid.UUID,
        kind: str,
        now: datetime,
        quiet_before: datetime,
    ) -> bool:
        """Note a qualifying failure; True when it starts a new burst (alert now).

        Atomic on both databases: the first failure of a key, or the first after
        a quiet window (no failure since `quiet_before`), claims the alert; every
        other failure only moves `last_seen_at`.
        """
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        table = AuditSignalAlert.__table__
        quiet = AuditSignalAlert.last_seen_at < quiet_before
        moment = literal(now, type_=table.c.alerted_at.type)
        statement = (
            insert(AuditSignalAlert)
            .values(
                key=key,
                organization_id=organization_id,
                kind=kind,
                last_seen_at=now,
                alerted_at=now,
                alerts=1,
            )
            .on_conflict_do_update(
                index_elements=[table.c.key],
                set_={
                    "alerted_at": case((quiet, moment), else_=AuditSignalAlert.alerted_at),
                    "alerts": case(
                        (quiet, AuditSignalAlert.alerts + 1), else_=AuditSignalAlert.alerts
                    ),
                    "last_seen_at": now,
                },
            )
            .returning(AuditSignalAlert.alerted_at)
        )
        alerted_at = (await self.session.execute(statement)).scalar_one()
        return bool(alerted_at == now)
