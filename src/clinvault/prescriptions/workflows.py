"""Telling people a prescription moved: in-app inside the transaction, email after commit.

Notifications and emails name the prescription number and what happened, and
link to the signed-in page: never the medication, the patient or any other
health information. Each email is a durable workflow keyed by the
prescription version and the recipient, so a retry never sends twice.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass

import structlog
from dbos import DBOS, SetWorkflowID
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.bootstrap import Container
from clinvault.db import after_commit
from clinvault.mail.ports import MailDeliveryFailed
from clinvault.models.prescriptions import Prescription
from clinvault.notifications.service import notify
from clinvault.prescriptions.repository import PrescriptionRepository
from clinvault.prescriptions.states import Action
from clinvault.workflows import runtime

log = structlog.get_logger(__name__)

PATIENT, PHARMACY, PRESCRIBER = "patient", "pharmacy", "prescriber"
HEADLINES: dict[Action, str] = {
    Action.SIGN: "a new prescription was issued",
    Action.HOLD: "put on hold by the prescriber",
    Action.RESUME: "resumed by the prescriber",
    Action.CANCEL: "cancelled by the prescriber",
    Action.ENTERED_IN_ERROR: "withdrawn by the prescriber",
    Action.CHANGE_PHARMACY: "sent to another pharmacy",
    Action.CLAIM: "accepted by the pharmacy",
    Action.DECLINE: "declined by the pharmacy",
    Action.DISPENSE: "dispensed by the pharmacy",
    Action.ACKNOWLEDGE_CANCEL: "cancellation confirmed by the pharmacy",
    Action.DENY_CANCEL: "cancellation refused by the pharmacy",
}
AUDIENCE: dict[Action, tuple[str, ...]] = {
    Action.SIGN: (PATIENT, PHARMACY),
    Action.HOLD: (PATIENT, PHARMACY),
    Action.RESUME: (PATIENT, PHARMACY),
    Action.CANCEL: (PATIENT, PHARMACY),
    Action.ENTERED_IN_ERROR: (PATIENT, PHARMACY),
    Action.CHANGE_PHARMACY: (PATIENT, PHARMACY, PRESCRIBER),
    Action.CLAIM: (PATIENT,),
    Action.DECLINE: (PRESCRIBER, PATIENT),
    Action.DISPENSE: (PRESCRIBER, PATIENT),
    Action.ACKNOWLEDGE_CANCEL: (PRESCRIBER, PATIENT),
    Action.DENY_CANCEL: (PRESCRIBER, PATIENT),
}


@dataclass(frozen=True, slots=True)
class Recipient:
    user_id: uuid.UUID
    organization_id: uuid.UUID
    path: str


def _paths(rx: Prescription, party: str) -> str:
    if party == PHARMACY:
        return f"/pharmacy/prescriptions/{rx.id}"
    return f"/prescriptions/{rx.id}"


async def announce(
    session: AsyncSession,
    container: Container,
    rx: Prescription,
    action: Action,
    *,
    actor_id: uuid.UUID | None,
    extra_pharmacies: tuple[uuid.UUID, ...] = (),
    headline: str | None = None,
) -> int:
    """Notify the parties of `action` in-app now and by email after commit."""
    repository = PrescriptionRepository(session)
    recipients: list[Recipient] = []
    for party in AUDIENCE[action]:
        if party == PATIENT:
            user = await repository.patient_user_global(rx.patient_id)
            if user is not None and user.is_active:
                recipients.append(Recipient(user.id, user.organization_id, _paths(rx, party)))
        elif party == PRESCRIBER:
            recipients.append(Recipient(rx.prescriber_id, rx.organization_id, _paths(rx, party)))
        else:
            for pharmacy in dict.fromkeys((rx.pharmacy_id, *extra_pharmacies)):
                for user in await repository.members_with_role_global(pharmacy, "pharmacist"):
                    recipients.append(Recipient(user.id, pharmacy, _paths(rx, party)))
    text = headline or HEADLINES[action]
    sent: list[Recipient] = []
    for recipient in recipients:
        if recipient.user_id == actor_id or recipient in sent:
            continue
        await notify(
            session,
            organization_id=recipient.organization_id,
            user_ids=[recipient.user_id],
            kind=f"prescription.{action.value}",
            title=f"Prescription {rx.number}: {text}",
            body=f"Prescription {rx.number}: {text}. Open it to see the details.",
            link=recipient.path,
            dedupe_key=f"rx:{rx.id}:v{rx.version}:{recipient.user_id}",
        )
        sent.append(recipient)
    for recipient in sent:
        key = f"rx-mail-{rx.id}-v{rx.version}-{recipient.user_id}"
        args = (str(recipient.user_id), text, rx.number, recipient.path, key)
        after_commit(session, functools.partial(start_mail, container, *args))
    return len(sent)


async def deliver(
    container: Container, user_id: uuid.UUID, headline: str, number: str, path: str, key: str
) -> str:
    async with container.db.unit_of_work() as session:
        users = await PrescriptionRepository(session).users_global([user_id])
    user = users.get(user_id)
    if user is None or not user.is_active:
        return "missing"
    url = f"{container.settings.public_url.rstrip('/')}{path}"
    mail = container.renderer.compose(
        "prescription_update",
        to=[user.email],
        idempotency_key=key,
        headline=headline[:1].upper() + headline[1:],
        number=number,
        prescription_url=url,
    )
    try:
        await container.mailer.send(mail)
    except MailDeliveryFailed as exc:
        if exc.retryable:
            raise
        log.error("prescriptions.mail.refused", smtp_code=exc.smtp_code)
        return "refused"
    return "sent"


@DBOS.step(retries_allowed=True, max_attempts=6, interval_seconds=1, backoff_rate=2)
async def send_prescription_mail(
    user_id: str, headline: str, number: str, path: str, key: str
) -> str:
    return await deliver(runtime.container(), uuid.UUID(user_id), headline, number, path, key)


@DBOS.workflow()
async def prescription_mail_workflow(
    user_id: str, headline: str, number: str, path: str, key: str
) -> str:
    outcome = await send_prescription_mail(user_id, headline, number, path, key)
    log.info("prescriptions.mail", user_id=user_id, outcome=outcome)
    return outcome


async def start_mail(
    container: Container, user_id: str, headline: str, number: str, path: str, key: str
) -> None:
    """Durable when workflows run, else once, best effort (never fails the caller)."""
    try:
        if runtime.is_running():
            with SetWorkflowID(key):
                await DBOS.start_workflow_async(
                    prescription_mail_workflow, user_id, headline, number, path, key
                )
        else:
            await deliver(container, uuid.UUID(user_id), headline, number, path, key)
    except Exception:
        log.exception("prescriptions.mail.start_failed", user_id=user_id)
