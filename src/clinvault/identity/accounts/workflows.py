"""Durable password-reset mail.

The workflow receives the reset's id only; the link token is recomputed from
the row, so no secret passes through the workflow system database (ADR 0004).
A row that names no account (an unknown address, or one over its hourly limit)
ends the workflow without mail: the request that wrote it answered the same.
"""

from __future__ import annotations

import uuid

import structlog
from dbos import DBOS, SetWorkflowID

from clinvault.bootstrap import Container
from clinvault.identity.accounts.repository import AccountRepository
from clinvault.identity.accounts.tokens import reset_token
from clinvault.mail.ports import MailDeliveryFailed
from clinvault.timeutil import utcnow
from clinvault.workflows import runtime

log = structlog.get_logger(__name__)


async def deliver_reset(container: Container, reset_id: uuid.UUID) -> str:
    async with container.db.unit_of_work() as session:
        found = await AccountRepository(session).reset_for_mail_global(reset_id)
    if found is None:
        return "no_account"
    reset, user = found
    if reset.used_at is not None or reset.expires_at <= utcnow():
        return "closed"
    token = reset_token(container.keys, reset.id, reset.token_nonce, reset.token_key_version)
    base = container.settings.public_url.rstrip("/")
    mail = container.renderer.compose(
        "password_reset",
        to=[user.email],
        idempotency_key=f"password-reset:{reset.id}",
        reset_url=f"{base}/reset-password/{token}",
        expires_at=reset.expires_at,
        minutes=container.settings.security.password_reset_minutes,
    )
    try:
        await container.mailer.send(mail)
    except MailDeliveryFailed as exc:
        if exc.retryable:
            raise
        log.error("identity.password_reset.mail_refused", smtp_code=exc.smtp_code)
        return "refused"
    return "sent"


@DBOS.step(retries_allowed=True, max_attempts=6, interval_seconds=1, backoff_rate=2)
async def send_reset_email(reset_id: str) -> str:
    return await deliver_reset(runtime.container(), uuid.UUID(reset_id))


@DBOS.workflow()
async def reset_email_workflow(reset_id: str) -> str:
    outcome = await send_reset_email(reset_id)
    log.info("identity.password_reset.mail", reset_id=reset_id, outcome=outcome)
    return outcome


async def start_reset_email(reset_id: uuid.UUID) -> None:
    """Start the durable reset mail (after the request's commit), for every request alike."""
    if not runtime.is_running():
        log.warning("identity.password_reset.mail_not_started", reset_id=str(reset_id))
        return
    try:
        with SetWorkflowID(f"password-reset-{reset_id}"):
            await DBOS.start_workflow_async(reset_email_workflow, str(reset_id))
    except Exception:
        log.exception("identity.password_reset.mail_start_failed", reset_id=str(reset_id))
