"""The daily care-plan digest: one email per user and day, listing what happened.

Users who chose `daily_digest` get no email per event; `watchers.announce` writes
a `CarePlanDigestEntry` (a headline and a link, never health information) in
the event's transaction instead. Once a day the scheduled workflow
(`workflows.care_plan_digest_workflow`) runs:

1. `pick(container, day, cutoff)`: for each user with waiting entries, one
   transaction marks them as listed in that user's digest of the day, whose key
   `cp-digest-<user>-<day>` is also the id of the workflow that mails it. A
   second run on the same day marks nothing (new entries wait for the next day).
2. `send(container, user_id, key)`: one email listing the digest's entries, sent
   with the key as idempotency key, then the entries are marked mailed.

A digest whose email did not go out (a crash after step 1) is mailed by the
next run; the workflow id keeps it to one email.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import structlog

from clinvault.bootstrap import Container
from clinvault.careplans.repository import CarePlanRepository
from clinvault.mail.ports import MailDeliveryFailed
from clinvault.timeutil import utcnow

log = structlog.get_logger(__name__)

DIGEST_SCHEDULE = "careplans-daily-digest"
DIGEST_CRON = "0 0 7 * * *"
"""Every day at 07:00 UTC."""


def digest_key(user_id: uuid.UUID, day: date) -> str:
    return f"cp-digest-{user_id}-{day.isoformat()}"


def as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


async def pick(container: Container, day: date, cutoff: datetime) -> list[tuple[str, str]]:
    """Mark each user's entries made before `cutoff` as listed in the user's digest of
    `day`; return (user id, digest key) of every digest not mailed yet."""
    cutoff = as_utc(cutoff)
    async with container.db.unit_of_work() as session:
        users = await CarePlanRepository(session).digest_due_users(cutoff)
    for user_id in users:
        async with container.db.unit_of_work() as session:
            await CarePlanRepository(session).pick_digest(
                user_id, digest_key(user_id, day), cutoff, utcnow()
            )
    async with container.db.unit_of_work() as session:
        pending = await CarePlanRepository(session).unmailed_digests()
    return [(str(user_id), key) for user_id, key in pending]


async def send(container: Container, user_id: uuid.UUID, key: str) -> str:
    """Mail digest `key` to its user (once: the key is the idempotency key)."""
    async with container.db.unit_of_work() as session:
        repository = CarePlanRepository(session)
        user = await repository.user_global(user_id)
        entries = await repository.digest_entries(key)
        base = container.settings.public_url.rstrip("/")
        items = [{"headline": row.headline, "url": f"{base}{row.link}"} for row in entries]
    outcome = "missing"
    if user is not None and user.is_active and items:
        mail = container.renderer.compose(
            "care_plan_digest", to=[user.email], idempotency_key=key, items=items
        )
        try:
            await container.mailer.send(mail)
            outcome = "sent"
        except MailDeliveryFailed as exc:
            if exc.retryable:
                raise
            log.error("careplans.digest.refused", smtp_code=exc.smtp_code)
            outcome = "refused"
    async with container.db.unit_of_work() as session:
        await CarePlanRepository(session).mark_digest_mailed(key, utcnow())
    log.info("careplans.digest", user_id=str(user_id), entries=len(items), outcome=outcome)
    return outcome
