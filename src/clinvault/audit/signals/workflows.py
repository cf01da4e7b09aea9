"""Durable mail of sign-in alerts to an organization's administrators.

The workflow receives ids, a kind and a count only; the addresses are read
when the mail is sent, and the mail names no account and no patient.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import structlog
from dbos import DBOS, SetWorkflowID

from clinvault.bootstrap import Container
from clinvault.identity.directory.service import admin_contacts
from clinvault.mail.ports import MailDeliveryFailed
from clinvault.workflows import runtime

log = structlog.get_logger(__name__)

TEMPLATE = "sign_in_alert"


def wording(kind: str, failures: int, minutes: int) -> tuple[str, str]:
    """(headline, summary) of an alert: counts and kinds only, never who or which patient."""
    if kind == "account_locked":
        return (
            "an account was locked",
            f"An account of your organization was locked after {failures} failed sign-in attempts.",
        )
    return (
        f"{failures} failed sign-ins in {minutes} minutes",
        f"{failures} sign-in attempts to accounts of your organization failed within "
        f"{minutes} minutes.",
    )


async def deliver_alert(
    container: Container,
    organization_id: uuid.UUID,
    kind: str,
    failures: int,
    minutes: int,
    occurred_at: datetime,
    audit_path: str,
) -> int:
    """Mail every active administrator of the organization; return how many were sent."""
    async with container.db.unit_of_work() as session:
        contacts = await admin_contacts(session, organization_id)
    headline, summary = wording(kind, failures, minutes)
    audit_url = f"{container.settings.public_url.rstrip('/')}{audit_path}"
    sent = 0
    for admin_id, email in contacts.admins:
        mail = container.renderer.compose(
            TEMPLATE,
            to=[email],
            idempotency_key=f"{TEMPLATE}:{kind}:{admin_id}:{occurred_at.isoformat()}",
            organization_name=contacts.organization_name,
            headline=headline,
            summary=summary,
            occurred_at=occurred_at,
            audit_url=audit_url,
        )
        try:
            await container.mailer.send(mail)
        except MailDeliveryFailed as exc:
            if exc.retryable:
                raise
            log.error("audit.signal.mail_refused", smtp_code=exc.smtp_code)
            continue
        sent += 1
    return sent


@DBOS.step(retries_allowed=True, max_attempts=6, interval_seconds=1, backoff_rate=2)
async def send_alert_mail(
    organization_id: str, kind: str, failures: int, minutes: int, occurred_at: str, path: str
) -> int:
    return await deliver_alert(
        runtime.container(),
        uuid.UUID(organization_id),
        kind,
        failures,
        minutes,
        datetime.fromisoformat(occurred_at),
        path,
    )


@DBOS.workflow()
async def sign_in_alert_workflow(
    organization_id: str, kind: str, failures: int, minutes: int, occurred_at: str, path: str
) -> int:
    sent = await send_alert_mail(organization_id, kind, failures, minutes, occurred_at, path)
    log.info("audit.signal.mailed", organization_id=organization_id, kind=kind, sent=sent)
    return sent


async def start_alert_mail(
    container: Container,
    organization_id: uuid.UUID,
    kind: str,
    failures: int,
    minutes: int,
    occurred_at: datetime,
    audit_path: str,
) -> None:
    """Mail the administrators durably when workflows run, else once, best effort."""
    try:
        if runtime.is_running():
            stamp = int(occurred_at.timestamp() * 1000)
            with SetWorkflowID(f"sign-in-alert-{kind}-{organization_id}-{stamp}"):
                await DBOS.start_workflow_async(
                    sign_in_alert_workflow,
                    str(organization_id),
                    kind,
                    failures,
                    minutes,
                    occurred_at.isoformat(),
                    audit_path,
                )
        else:
            await deliver_alert(
                container, organization_id, kind, failures, minutes, occurred_at, audit_path
            )
    except Exception:
        log.exception("audit.signal.mail_failed", organization_id=str(organization_id), kind=kind)
