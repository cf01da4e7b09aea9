"""Emails to a plan's watchers: what happened and a link, never health information.

Each email is a durable workflow whose id is the plan, the event and the
recipient, so a retried request or step never sends twice.
"""

from __future__ import annotations

import uuid

import structlog
from dbos import DBOS, SetWorkflowID

from clinvault.bootstrap import Container
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
