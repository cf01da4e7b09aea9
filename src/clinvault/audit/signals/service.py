"""Alert an organization's administrators at once on a lockout or a failed-sign-in burst.

Called after a failed sign-in has been counted (identity's sign-in guard). Two
signals, each alerted once per burst:

- an account of the organization is locked by the sign-in throttle;
- BURST_THRESHOLD or more refused sign-ins to the organization's accounts within
  BURST_WINDOW, counted from the audit log (this attempt included; its own
  event is written after the request answers).

An alert is one in-app notification per active administrator (in the same
transaction as the alert's bookkeeping) and, after commit, one email each,
without PHI: no account name, no patient, a link to the signed-in audit page.
A failure here is logged and never changes the sign-in's own answer.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.audit.signals.repository import SignalRepository
from clinvault.audit.signals.workflows import start_alert_mail, wording
from clinvault.bootstrap import Container
from clinvault.identity.directory.service import admin_contacts
from clinvault.notifications.service import notify

log = structlog.get_logger(__name__)

BURST_THRESHOLD = 10
BURST_WINDOW = timedelta(minutes=5)
LOCKED = "account_locked"
BURST = "failed_sign_in_burst"
NOTIFICATION_KIND = "security.sign_in_alert"


@dataclass(frozen=True, slots=True)
class Alert:
    kind: str
    organization_id: uuid.UUID
    failures: int
    occurred_at: datetime
    audit_path: str


def _audit_path(kind: str, account_id: uuid.UUID | None, now: datetime) -> str:
    """The portal's audit page narrowed to what the alert is about (ids only)."""
    query: dict[str, str] = {"outcome": "denied", "since": now.date().isoformat()}
    if kind == LOCKED and account_id is not None:
        query["actor"] = str(account_id)
    return "/audit?" + urlencode(query)


class SignInSignals:
    def __init__(self, container: Container) -> None:
        self.container = container

    def _lock_quiet(self) -> timedelta:
        """A relock after the longest lock still belongs to the same burst."""
        return (
            timedelta(seconds=self.container.settings.security.lockout_max_seconds) + BURST_WINDOW
        )

    async def failed_sign_in(
        self,
        *,
        organization_id: uuid.UUID | None,
        account_id: uuid.UUID | None,
        failures: int,
        locked: bool,
        now: datetime,
    ) -> list[Alert]:
        """Raise the alerts this failure starts; return them (empty: nothing new)."""
        if organization_id is None:
            return []  # an unknown address belongs to no organization
        try:
            alerts = await self._check(organization_id, account_id, failures, locked, now)
        except Exception:
            log.exception("audit.signal.failed", organization_id=str(organization_id))
            return []
        for alert in alerts:
            minutes = int(BURST_WINDOW.total_seconds() // 60)
            await start_alert_mail(
                self.container,
                alert.organization_id,
                alert.kind,
                alert.failures,
                minutes,
                alert.occurred_at,
                alert.audit_path,
            )
            log.warning(
                "audit.signal.alerted", organization_id=str(organization_id), kind=alert.kind
            )
        return alerts

    async def _check(
        self,
        organization_id: uuid.UUID,
        account_id: uuid.UUID | None,
        failures: int,
        locked: bool,
        now: datetime,
    ) -> list[Alert]:
        alerts: list[Alert] = []
        async with self.container.db.unit_of_work() as session:
            repository = SignalRepository(session)
            if locked and account_id is not None:
                claimed = await repository.claim_alert(
                    key=f"{LOCKED}:{organization_id}:{account_id}",
                    organization_id=organization_id,
                    kind=LOCKED,
                    now=now,
                    quiet_before=now - self._lock_quiet(),
                )
                if claimed:
                    path = _audit_path(LOCKED, account_id, now)
                    alerts.append(Alert(LOCKED, organization_id, failures, now, path))
            recent = await repository.failed_sign_ins(organization_id, since=now - BURST_WINDOW)
            recent += 1  # this attempt: its event is recorded once the request answers
            if recent >= BURST_THRESHOLD:
                claimed = await repository.claim_alert(
                    key=f"{BURST}:{organization_id}:org",
                    organization_id=organization_id,
                    kind=BURST,
                    now=now,
                    quiet_before=now - BURST_WINDOW,
                )
                if claimed:
                    path = _audit_path(BURST, None, now)
                    alerts.append(Alert(BURST, organization_id, recent, now, path))
            if alerts:
                await self._notify(session, organization_id, alerts)
        return alerts

    async def _notify(
        self, session: AsyncSession, organization_id: uuid.UUID, alerts: list[Alert]
    ) -> None:
        contacts = await admin_contacts(session, organization_id)
        admins = [admin_id for admin_id, _ in contacts.admins]
        minutes = int(BURST_WINDOW.total_seconds() // 60)
        for alert in alerts:
            headline, summary = wording(alert.kind, alert.failures, minutes)
            await notify(
                session,
                organization_id=organization_id,
                user_ids=admins,
                kind=NOTIFICATION_KIND,
                title=f"Sign-in alert: {headline}",
                body=f"{summary} Open the audit log to see the attempts.",
                link=alert.audit_path,
                dedupe_key=f"sign-in-alert:{alert.kind}:{organization_id}:{alert.occurred_at.isoformat()}",
            )
