"""Comment threads on a plan.

- `threads(principal, plan_id)`: every thread with its replies, each marked
  with its version; a thread whose goal or activity changed since is outdated.
- `comment(principal, plan_id, data)`: a thread or a reply, at `comment` level
  or above; `mentions` name users who can see the plan (anyone else is refused
  with one message, whether or not the user exists) and notifies them.
- `edit` (the author, within 15 minutes), `resolve` and `reopen` a thread.

Services never commit.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.bootstrap import Container
from clinvault.careplans import access, watchers
from clinvault.careplans.access import Access
from clinvault.careplans.content import decode as decode_content
from clinvault.careplans.repository import CarePlanRepository
from clinvault.careplans.schemas import CommentCreate, CommentRead
from clinvault.careplans.service import CarePlanService
from clinvault.errors import PermissionDenied
from clinvault.errors.careplans import (
    CarePlanCommentInvalid,
    CarePlanCommentLocked,
    CarePlanCommentNotFound,
)
from clinvault.identity.principal import Principal
from clinvault.models.careplans import CarePlan, CarePlanComment
from clinvault.notifications.service import notify
from clinvault.timeutil import utcnow

EDIT_WINDOW = timedelta(minutes=15)
COMMENT_NOT_FOUND = "No such comment on this plan: check the id."
MENTION_REFUSED = (
    "A mentioned user cannot see this plan (or is not a user): share the plan with them "
    "first, or remove the mention."
)


def _anchored(plan_content: str, anchor: str | None) -> str | None:
    """The current text of the goal or activity an anchor names (None once it is gone)."""
    if anchor is None:
        return None
    kind, _, index = anchor.partition(":")
    stored = decode_content(plan_content)
    items = stored.get("goals" if kind == "goal" else "activities", [])
    position = int(index)
    if position >= len(items):
        return None
    return json.dumps(items[position], sort_keys=True)


class CommentService:
    def __init__(self, session: AsyncSession, container: Container | None = None) -> None:
        self.session = session
        self.repository = CarePlanRepository(session)
        self.plans = CarePlanService(session, container)

    async def _commenter(self, principal: Principal, plan_id: uuid.UUID, what: str) -> Access:
        found = await self.plans.find(principal, plan_id, what)
        if found.patient or access.rank(found.level) < access.rank("comment"):
            raise PermissionDenied("Your share lets you view this plan, not comment on it.")
        return found

    async def threads(self, principal: Principal, plan_id: uuid.UUID) -> list[CommentRead]:
        found = await self.plans.find(principal, plan_id, "comments.list")
        if found.patient:
            raise PermissionDenied("Comments are for the plan's clinicians.")
        rows = await self.repository.comments(found.plan.id)
        reads = {row.id: self._read(row, found.plan) for row in rows}
        roots: list[CommentRead] = []
        for row in rows:
            if row.parent_id is None:
                roots.append(reads[row.id])
            elif row.parent_id in reads:
                reads[row.parent_id].replies.append(reads[row.id])
        return roots

    async def comment(
        self, principal: Principal, plan_id: uuid.UUID, data: CommentCreate
    ) -> CommentRead:
        found = await self._commenter(principal, plan_id, "comments.create")
        plan = found.plan
        version = plan.version if data.version is None else data.version
        row_version = await self.repository.version(plan.id, version)
        if row_version is None:
            raise _invalid("version", f"This plan has versions 1 to {plan.version}.")
        parent_id = None
        anchor = None
        if data.parent_id is not None:
            parent = await self.repository.comment(data.parent_id)
            if parent is None or parent.plan_id != plan.id:
                raise _invalid("parent_id", "No such thread on this plan: check parent_id.")
            parent_id = parent.parent_id or parent.id
        elif data.goal_index is not None:
            anchor = f"goal:{data.goal_index}"
        elif data.activity_index is not None:
            anchor = f"activity:{data.activity_index}"
        anchor_text = _anchored(row_version.content, anchor)
        if anchor is not None and anchor_text is None:
            field = "goal_index" if anchor.startswith("goal") else "activity_index"
            raise _invalid(field, f"Version {version} has no such {anchor.split(':')[0]}.")
        mentioned = await self._mentionable(plan, data.mentions)
        user = await self.repository.user_global(principal.user_id)
        row = CarePlanComment(
            organization_id=plan.organization_id,
            plan_id=plan.id,
            parent_id=parent_id,
            version=version,
            anchor=anchor,
            anchor_text=anchor_text,
            author_id=principal.user_id,
            author_name="" if user is None else (user.display_name or user.email),
            acting_organization_id=principal.organization_id,
            body=data.body,
        )
        await self.repository.add(row)
        context.describe_resource("care_plan_comment", row.id)
        for organization_id, user_ids in mentioned.items():
            await notify(
                self.session,
                organization_id=organization_id,
                user_ids=[uid for uid in user_ids if uid != principal.user_id],
                kind="care_plan.mention",
                title="You were mentioned on a care plan",
                body="A colleague mentioned you in a comment. Open the plan to read it.",
                link=f"/api/care-plans/{plan.id}/comments",
                dedupe_key=f"care_plan.mention:{row.id}",
            )
        await watchers.announce(
            self.repository,
            plan,
            "care_plan.comment",
            actor_id=principal.user_id,
            event=f"comment:{row.id}",
            container=self.plans.container,
            skip={uid for ids in mentioned.values() for uid in ids},
        )
        return self._read(row, plan)

    async def _mentionable(
        self, plan: CarePlan, user_ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, list[uuid.UUID]]:
        """The mentioned users by organization; one refusal for anyone who cannot see it."""
        found: dict[uuid.UUID, list[uuid.UUID]] = {}
        for user_id in dict.fromkeys(user_ids):
            organization_id = await watchers.sees(self.repository, plan, user_id)
            if organization_id is None:
                raise _invalid("mentions", MENTION_REFUSED)
            found.setdefault(organization_id, []).append(user_id)
        return found

    async def edit(
        self, principal: Principal, plan_id: uuid.UUID, comment_id: uuid.UUID, body: str
    ) -> CommentRead:
        found = await self._commenter(principal, plan_id, "comments.update")
        row = await self._comment(found.plan, comment_id)
        if row.author_id != principal.user_id:
            raise PermissionDenied("Only its author edits a comment: reply instead.")
        if utcnow() > row.created_at + EDIT_WINDOW:
            raise CarePlanCommentLocked(
                "Comments can be edited for 15 minutes; this one is now part of the record: "
                "reply to it instead."
            )
        row.body = body
        row.edited_at = utcnow()
        await self.session.flush()
        return self._read(row, found.plan)

    async def resolve(
        self, principal: Principal, plan_id: uuid.UUID, comment_id: uuid.UUID, resolved: bool
    ) -> CommentRead:
        what = "comments.resolve" if resolved else "comments.reopen"
        found = await self._commenter(principal, plan_id, what)
        row = await self._comment(found.plan, comment_id)
        if row.parent_id is not None:
            raise CarePlanCommentInvalid(
                "Threads are resolved as a whole: use the id of the thread's first comment."
            )
        row.resolved_at = utcnow() if resolved else None
        row.resolved_by = principal.user_id if resolved else None
        await self.session.flush()
        return self._read(row, found.plan)

    async def _comment(self, plan: CarePlan, comment_id: uuid.UUID) -> CarePlanComment:
        row = await self.repository.comment(comment_id)
        if row is None or row.plan_id != plan.id:
            raise CarePlanCommentNotFound(COMMENT_NOT_FOUND)
        return row

    def _read(self, row: CarePlanComment, plan: CarePlan) -> CommentRead:
        current = _anchored(plan.content, row.anchor)
        return CommentRead(
            id=row.id,
            plan_id=row.plan_id,
            parent_id=row.parent_id,
            version=row.version,
            on_current_version=row.version == plan.version,
            anchor=row.anchor,
            outdated=row.anchor is not None and current != row.anchor_text,
            author_id=row.author_id,
            author_name=row.author_name,
            body=row.body,
            created_at=row.created_at,
            edited_at=row.edited_at,
            editable_until=row.created_at + EDIT_WINDOW,
            resolved_at=row.resolved_at,
            resolved_by=row.resolved_by,
        )


def _invalid(field: str, message: str) -> CarePlanCommentInvalid:
    return CarePlanCommentInvalid(
        message, errors=[{"field": field, "in": "body", "message": message}]
    )
