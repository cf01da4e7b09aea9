"""Email to the patient and the practitioner when staff move or cancel an appointment.

The message says only that an appointment was rescheduled or cancelled and
links to the signed-in page: no name, time, practitioner or reason (those are
health information). Each email is a durable workflow keyed by the
appointment, the change and the recipient, so a retry never sends twice.
"""

from __future__ import annotations

import uuid

import structlog
from dbos import DBOS, SetWorkflowID

from clinvault.bootstrap import Container
from clinvault.mail.ports import MailDeliveryFailed
from clinvault.records.appointments.repository import AppointmentRepository
from clinvault.workflows import runtime

log = structlog.get_logger(__name__)

HEADLINES = {
    "rescheduled": "An appointment was rescheduled",
    "cancelled": "An appointment was cancelled",
}


async def deliver(container: Container, user_id: uuid.UUID, event: str, path: str, key: str) -> str:
    async with container.db.unit_of_work() as session:
        user = await AppointmentRepository(session).user_global(user_id)
    if user is None or not user.is_active:
        return "missing"
    mail = container.renderer.compose(
        "appointment_change",
        to=[user.email],
        idempotency_key=key,
        headline=HEADLINES[event],
        page_url=f"{container.settings.public_url.rstrip('/')}{path}",
    )
    try:
        await container.mailer.send(mail)
    except MailDeliveryFailed as exc:
        if exc.retryable:
            raise
        log.error("records.appointment.mail_refused", smtp_code=exc.smtp_code)
        return "refused"
    return "sent"


@DBOS.step(retries_allowed=True, max_attempts=6, interval_seconds=1, backoff_rate=2)
async def send_appointment_mail(user_id: str, event: str, path: str, key: str) -> str:
    return await deliver(runtime.container(), uuid.UUID(user_id), event, path, key)


@DBOS.workflow()
async def appointment_mail_workflow(user_id: str, event: str, path: str, key: str) -> str:
    outcome = await send_appointment_mail(user_id, event, path, key)
    log.info("records.appointment.mail", user_id=user_id, appointment_event=event, outcome=outcome)
    return outcome


async def start_mail(
    container: Container, user_id: uuid.UUID, event: str, path: str, key: str
) -> None:
    """After commit: durably when workflows run, else once, best effort."""
    try:
        if runtime.is_running():
            with SetWorkflowID(f"appt-mail-{key}"):
                await DBOS.start_workflow_async(
                    appointment_mail_workflow, str(user_id), event, path, key
                )
        else:
            await deliver(container, user_id, event, path, key)
    except Exception:
        log.exception("records.appointment.mail_failed", user_id=str(user_id))
