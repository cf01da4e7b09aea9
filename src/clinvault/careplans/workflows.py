"""Emails to a plan's watchers: what happened and a link, never health information.

Each email is a durable workflow whose id is the plan, the event and the
recipient, so a retried request or step never sends twice. Users who chose the
daily digest get one email a day instead, from a scheduled workflow that starts
one mail workflow per user and day (`clinvault.careplans.digest`).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import structlog
from dbos import DBOS, SetWorkflowID

from clinvault.bootstrap import Container
from clinvault.careplans import digest
from clinvault.careplans.repository import CarePlanRepository
from clinvault.mail.ports import MailDeliveryFailed
from clinvault.workflows import runtime

log = structlog.get_logger(__name__)


async def deliver(
    container: Container, user_id: uuid.UUID, headline: str, path: str, key: str
) -> str:
    async with container.db.unit_of_work() as session:
        user = await CarePlanRepository(session).user_global(user_id)
    if user is None or not user.is_active:
        return "missing"
    mail = container.renderer.compose(
        "care_plan_update",
        to=[user.email],
        idempotency_key=key,
        headline=headline,
        plan_url=f"{container.settings.public_url.rstrip('/')}{path}",
    )
    try:
        await container.mailer.send(mail)
    except MailDeliveryFailed as exc:
        if exc.retryable:
            raise
        log.error("careplans.mail.refused", smtp_code=exc.smtp_code)
        return "refused"
    return "sent"


@DBOS.step(retries_allowed=True, max_attempts=6, interval_seconds=1, backoff_rate=2)
async def send_care_plan_mail(user_id: str, headline: str, path: str, key: str) -> str:
    return await deliver(runtime.container(), uuid.UUID(user_id), headline, path, key)


@DBOS.workflow()
async def care_plan_mail_workflow(user_id: str, headline: str, path: str, key: str) -> str:
    outcome = await send_care_plan_mail(user_id, headline, path, key)
    log.info("careplans.mail", user_id=user_id, outcome=outcome)
    return outcome


async def start_mail(
    container: Container, user_id: str, headline: str, path: str, key: str
) -> None:
    """Durable when workflows run, else once, best effort (never fails the caller)."""
    try:
        if runtime.is_running():
            with SetWorkflowID(key):
                await DBOS.start_workflow_async(
                    care_plan_mail_workflow, user_id, headline, path, key
                )
        else:
            await deliver(container, uuid.UUID(user_id), headline, path, key)
    except Exception:
        log.exception("careplans.mail.start_failed", user_id=user_id)


@DBOS.step(retries_allowed=True, max_attempts=6, interval_seconds=1, backoff_rate=2)
async def pick_digests_step(day: str, cutoff: str) -> list[list[str]]:
    picked = await digest.pick(
        runtime.container(), date.fromisoformat(day), datetime.fromisoformat(cutoff)
    )
    return [[user_id, key] for user_id, key in picked]


@DBOS.step(retries_allowed=True, max_attempts=6, interval_seconds=1, backoff_rate=2)
async def send_digest_step(user_id: str, key: str) -> str:
    return await digest.send(runtime.container(), uuid.UUID(user_id), key)


@DBOS.workflow()
async def care_plan_digest_mail_workflow(user_id: str, key: str) -> str:
    """One user's digest of one day; its workflow id is the digest key."""
    return await send_digest_step(user_id, key)


@DBOS.workflow()
async def care_plan_digest_workflow(scheduled_at: datetime, _context: Any) -> int:
    """The daily digest: pick each digest user's entries, then mail each digest once."""
    moment = digest.as_utc(scheduled_at)
    pending = await pick_digests_step(moment.date().isoformat(), moment.isoformat())
    for user_id, key in pending:
        with SetWorkflowID(key):
            handle = await DBOS.start_workflow_async(care_plan_digest_mail_workflow, user_id, key)
        await handle.get_result()
    return len(pending)


def on_launch() -> None:
    """Install the daily digest schedule."""
    runtime.apply_schedule(digest.DIGEST_SCHEDULE, care_plan_digest_workflow, digest.DIGEST_CRON)
