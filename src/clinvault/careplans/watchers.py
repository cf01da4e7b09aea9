"""Who watches a plan, and telling them: in-app in the transaction, by email after commit.

Watchers are the author, the users of live accepted shares and everyone who
commented, plus anyone who chose to watch, minus anyone who chose not to; a
user who can no longer see the plan (a revoked or expired share) is never
told. Titles and bodies say what happened and link to the plan: never a title,
a goal or any other health information. One notification per user and event
(`dedupe_key`), so a retried request notifies nobody twice.

In-app notifications are immediate. Email follows each user's preference
(`CarePlanMailPreference`): one email per event after commit, or, for
`daily_digest`, an entry in the same transaction that the next daily digest
lists (`clinvault.careplans.digest`).
"""

from __future__ import annotations

import functools
import uuid

from clinvault.bootstrap import Container
from clinvault.careplans import policies
from clinvault.careplans.repository import CarePlanRepository
from clinvault.careplans.workflows import start_mail
from clinvault.db import after_commit
from clinvault.identity.principal import Role
from clinvault.models.careplans import CarePlan, CarePlanDigestEntry
from clinvault.notifications.service import notify
from clinvault.timeutil import utcnow

CLINICAL = {Role.ORG_ADMIN.value, Role.DOCTOR.value, Role.NURSE.value}
EVENTS = {
    "care_plan.version": "A care plan you watch has a new version",
    "care_plan.status": "A care plan you watch changed status",
    "care_plan.comment": "New comment on a care plan you watch",
    "care_plan.share": "A care plan was shared with you or one you watch",
    "care_plan.attachment": "A document was attached to a care plan you watch",
    "care_plan.attachment_removed": "A document was removed from a care plan you watch",
}
DIGEST = "daily_digest"


async def sees(
    repository: CarePlanRepository, plan: CarePlan, user_id: uuid.UUID
) -> uuid.UUID | None:
    """The user's organization when the user (a clinician) can see the plan, else None."""
    user = await repository.user_global(user_id)
    if user is None or not user.is_active or not CLINICAL & set(user.roles):
        return None
    org = await repository.organization_global(user.organization_id)
    if org is None or not org.is_active or org.kind != policies.PROVIDER:
        return None
    if org.id == plan.organization_id:
        return org.id
    levels = await repository.live_share_levels(
        plan.id, user_id=user_id, organization_id=org.id, now=utcnow()
    )
    return org.id if levels else None


async def announce(
    repository: CarePlanRepository,
    plan: CarePlan,
    kind: str,
    *,
    actor_id: uuid.UUID,
    event: str,
    also: set[uuid.UUID] | None = None,
    skip: set[uuid.UUID] | None = None,
    container: Container | None = None,
) -> int:
    """Notify the plan's watchers (and `also`) of `kind`, except the actor and `skip`."""
    chosen = await repository.watches(plan.id)
    users = await repository.implicit_watchers(plan, utcnow())
    users |= {uid for uid, watching in chosen.items() if watching}
    users |= also or set()
    users -= {uid for uid, watching in chosen.items() if not watching}
    users -= {actor_id, *(skip or set())}
    sent = 0
    for user_id in sorted(users):
        organization_id = await sees(repository, plan, user_id)
        if organization_id is None:
            continue
        added = await notify(
            repository.session,
            organization_id=organization_id,
            user_ids=[user_id],
            kind=kind,
            title=EVENTS[kind],
            body=f"{EVENTS[kind]}. Open the plan to see what changed.",
            link=f"/api/care-plans/{plan.id}",
            dedupe_key=f"{kind}:{plan.id}:{event}",
        )
        sent += added
        if not added:
            continue
        link = f"/api/care-plans/{plan.id}"
        preference = await repository.mail_preference(user_id)
        if preference is not None and preference.delivery == DIGEST:
            await repository.add(
                CarePlanDigestEntry(
                    organization_id=organization_id,
                    user_id=user_id,
                    plan_id=plan.id,
                    kind=kind,
                    headline=EVENTS[kind],
                    link=link,
                    dedupe_key=f"{kind}:{plan.id}:{event}"[:200],
                )
            )
        elif container is not None:
            key = f"cp-mail-{plan.id}-{event}-{user_id}".replace(":", "-")
            args = (str(user_id), EVENTS[kind], link, key)
            after_commit(repository.session, functools.partial(start_mail, container, *args))
    return sent
