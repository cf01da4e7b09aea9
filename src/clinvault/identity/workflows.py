"""Durable identity mail: invitations and security notices.

The workflows receive ids only. The invitation link token is recomputed from
the row (HMAC of its id and nonce), so no secret passes through the workflow
system database.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import structlog
from dbos import DBOS, SetWorkflowID

from clinvault.bootstrap import Container
from clinvault.identity.repository import IdentityRepository
from clinvault.identity.tokens import invitation_token
from clinvault.mail.ports import MailDeliveryFailed
from clinvault.timeutil import utcnow
from clinvault.workflows import runtime

log = structlog.get_logger(__name__)

SECURITY_TEMPLATES = frozenset({"mfa_enabled", "password_changed", "registration_attempt"})


def _link(container: Container, path: str) -> str:
    return f"{container.settings.public_url.rstrip('/')}{path}"


async def _send(container: Container, *, to: str, template: str, key: str, **values: object) -> str:
    mail = container.renderer.compose(template, to=[to], idempotency_key=key, **values)
    try:
        await container.mailer.send(mail)
    except MailDeliveryFailed as exc:
        if exc.retryable:
            raise
        log.error("identity.mail.refused", template=template, smtp_code=exc.smtp_code)
        return "refused"
    return "sent"


async def deliver_invitation(container: Container, invitation_id: uuid.UUID) -> str:
    async with container.db.unit_of_work() as session:
        found = await IdentityRepository(session).invitation_for_mail_global(invitation_id)
    if found is None:
        return "missing"
    invitation, organization_name, inviter_name = found
    if invitation.accepted_at or invitation.revoked_at or invitation.expires_at <= utcnow():
        return "closed"
    token = invitation_token(
        container.keys, invitation.id, invitation.token_nonce, invitation.token_key_version
    )
    return await _send(
        container,
        to=invitation.email,
        template="invitation",
        # A resent invitation has a new nonce, so a new link and a message of its own.
        key=f"invitation:{invitation.id}:{invitation.token_nonce[:16]}",
        organization_name=organization_name,
        inviter_name=inviter_name or organization_name,
        roles=list(invitation.roles),
        accept_url=_link(container, f"/invite/{token}"),
        expires_at=invitation.expires_at,
    )


async def deliver_security_notice(
    container: Container, user_id: uuid.UUID, template: str, occurred_at: datetime
) -> str:
    if template not in SECURITY_TEMPLATES:
        raise ValueError(f"unknown security notice {template!r}")
    async with container.db.unit_of_work() as session:
        found = await IdentityRepository(session).user_by_id_global(user_id)
    if found is None:
        return "missing"
    return await _send(
        container,
        to=found[0].email,
        template=template,
        key=f"{template}:{user_id}:{occurred_at.isoformat()}",
        occurred_at=occurred_at,
        account_url=_link(container, "/account"),
    )


@DBOS.step(retries_allowed=True, max_attempts=6, interval_seconds=1, backoff_rate=2)
async def send_invitation_email(invitation_id: str) -> str:
    return await deliver_invitation(runtime.container(), uuid.UUID(invitation_id))


@DBOS.workflow()
async def invitation_email_workflow(invitation_id: str) -> str:
    outcome = await send_invitation_email(invitation_id)
    log.info("identity.invitation.mail", invitation_id=invitation_id, outcome=outcome)
    return outcome


@DBOS.step(retries_allowed=True, max_attempts=6, interval_seconds=1, backoff_rate=2)
async def send_security_notice(user_id: str, template: str, occurred_at: str) -> str:
    return await deliver_security_notice(
        runtime.container(), uuid.UUID(user_id), template, datetime.fromisoformat(occurred_at)
    )


@DBOS.workflow()
async def security_notice_workflow(user_id: str, template: str, occurred_at: str) -> str:
    outcome = await send_security_notice(user_id, template, occurred_at)
    log.info("identity.security_notice.mail", user_id=user_id, template=template, outcome=outcome)
    return outcome


async def start_invitation_email(invitation_id: uuid.UUID, resend: str = "") -> None:
    """Start the durable invitation mail (after the invitation's commit); a resend names
    its new nonce's prefix and is a workflow of its own."""
    if not runtime.is_running():
        log.warning("identity.invitation.mail_not_started", invitation_id=str(invitation_id))
        return
    try:
        suffix = f"-{resend}" if resend else ""
        with SetWorkflowID(f"invitation-{invitation_id}{suffix}"):
            await DBOS.start_workflow_async(invitation_email_workflow, str(invitation_id))
    except Exception:
        log.exception("identity.invitation.mail_start_failed", invitation_id=str(invitation_id))


async def start_security_notice(
    container: Container, user_id: uuid.UUID, template: str, occurred_at: datetime
) -> None:
    """Send a security notice durably when workflows run, else once, best effort."""
    stamp = occurred_at.isoformat()
    try:
        if runtime.is_running():
            with SetWorkflowID(f"{template}-{user_id}-{int(occurred_at.timestamp() * 1000)}"):
                await DBOS.start_workflow_async(
                    security_notice_workflow, str(user_id), template, stamp
                )
        else:
            await deliver_security_notice(container, user_id, template, occurred_at)
    except Exception:
        log.exception("identity.security_notice.failed", user_id=str(user_id), template=template)
