"""The plan page's forms: comment and reply, resolve and reopen, watch, restore, share, revoke.

Each posts, then redirects back to the plan with a notice; a refusal shows
the plan page again with the message next to the form and the text kept.
"""

from __future__ import annotations

import uuid
from datetime import date

from fastapi import Request, Response
from pydantic import ValidationError

from clinvault.careplans.comments import CommentService
from clinvault.careplans.etags import etag
from clinvault.careplans.schemas import CommentCreate, ShareCreate
from clinvault.careplans.service import CarePlanService
from clinvault.careplans.shares import ShareService
from clinvault.deps import ContainerDep, SessionDep
from clinvault.errors import AppError
from clinvault.errors.careplans import CarePlanChanged
from clinvault.web.pages.careplans.detail import detail_page, refused
from clinvault.web.pages.common import VerifiedForm, discard_changes, portal_router, see_other
from clinvault.web.session import PortalPrincipal

router = portal_router()

MAX_COMMENT = 4000
MAX_MENTIONS = 20


def done(plan_id: uuid.UUID, notice: str, fragment: str = "") -> Response:
    return see_other(f"/care-plans/{plan_id}?notice={notice}{fragment}")


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text.strip())
    except ValueError:
        return None


@router.post("/care-plans/{plan_id:uuid}/comments", name="portal.cp.comment")
async def comment(
    request: Request,
    plan_id: uuid.UUID,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    text = form.get("body").replace("\r\n", "\n").strip()[: MAX_COMMENT + 1]
    parent = form.get("parent_id")
    failed = f"reply-{parent}" if parent else "comment"
    values = {"body": text, "mentions": " ".join(form.get_all("mentions")[:MAX_MENTIONS])}
    anchor = form.get("anchor")
    mentions = form.get_all("mentions")[:MAX_MENTIONS]
    data: dict[str, object] = {"body": text, "parent_id": parent or None, "mentions": mentions}
    if form.get("version").isdigit() and len(form.get("version")) < 10:
        data["version"] = int(form.get("version"))
    kind, _, index = anchor.partition(":")
    if kind in ("goal", "activity") and index.isdigit() and len(index) < 4:
        data[f"{kind}_index"] = int(index)
    page = (request, session, container, principal, plan_id)
    try:
        body = CommentCreate.model_validate(data)
    except ValidationError:
        message = f"Write the comment (1 to {MAX_COMMENT} characters)."
        return await detail_page(
            *page, failed=failed, error=message, values=values, status_code=400
        )
    try:
        await CommentService(session, container).comment(principal, plan_id, body)
    except AppError as problem:
        return await refused(*page, problem, failed, values)
    return done(plan_id, "commented", "#comments")


@router.post(
    "/care-plans/{plan_id:uuid}/comments/{comment_id:uuid}/resolve", name="portal.cp.resolve"
)
async def resolve(
    request: Request,
    plan_id: uuid.UUID,
    comment_id: uuid.UUID,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    resolved = form.get("resolved") != "no"
    service = CommentService(session, container)
    try:
        await service.resolve(principal, plan_id, comment_id, resolved)
    except AppError as problem:
        page = (request, session, container, principal, plan_id)
        return await refused(*page, problem, f"reply-{comment_id}", {})
    return done(plan_id, "resolved" if resolved else "reopened", "#comments")


@router.post("/care-plans/{plan_id:uuid}/watch", name="portal.cp.watch")
async def watch(
    request: Request,
    plan_id: uuid.UUID,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    watching = form.get("watching") != "no"
    try:
        await CarePlanService(session, container).set_watching(principal, plan_id, watching)
    except AppError as problem:
        page = (request, session, container, principal, plan_id)
        return await refused(*page, problem, "watch", {})
    return done(plan_id, "watching" if watching else "unwatched")


@router.post("/care-plans/{plan_id:uuid}/restore", name="portal.cp.restore")
async def restore(
    request: Request,
    plan_id: uuid.UUID,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    page = (request, session, container, principal, plan_id)
    number, based_on = form.get("number"), form.get("version")
    if not (number.isdigit() and based_on.isdigit() and len(number + based_on) < 18):
        return await detail_page(
            *page, failed="restore", error="Choose a version to restore.", status_code=400
        )
    service = CarePlanService(session, container)
    try:
        await service.restore(principal, plan_id, int(number), etag(plan_id, int(based_on)))
    except CarePlanChanged as problem:
        await discard_changes(session)
        latest = (await service.versions(principal, plan_id))[-1]
        message = (
            f"{latest.author_name or 'Someone'} changed this plan at "
            f"{latest.created_at:%d %b %Y %H:%M} UTC (now version {latest.number}); nothing "
            f"was restored. Check the new version, then restore version {number} again if "
            "you still want it."
        )
        return await detail_page(*page, failed="restore", error=message, status_code=problem.status)
    except AppError as problem:
        return await refused(*page, problem, "restore", {})
    return done(plan_id, "restored")


@router.post("/care-plans/{plan_id:uuid}/shares", name="portal.cp.share")
async def share(
    request: Request,
    plan_id: uuid.UUID,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    page = (request, session, container, principal, plan_id)
    kind = "organization" if form.get("grantee_kind") == "organization" else "user"
    grantee_text = form.get("grantee_id").strip()[:64]
    values = {
        "grantee_kind": kind,
        "grantee_id": grantee_text,
        "level": form.get("level")[:10],
        "expires_on": form.get("expires_on").strip()[:10],
    }
    grantee = _uuid(grantee_text)
    if grantee is None:
        message = f"Enter the {kind}'s id (like 7f0c…-…): ask your colleague for it."
        return await detail_page(
            *page, failed="share", error=message, values=values, status_code=400
        )
    try:
        expires = date.fromisoformat(values["expires_on"]) if values["expires_on"] else None
        body = ShareCreate.model_validate(
            {f"{kind}_id": grantee, "level": values["level"] or "view", "expires_on": expires}
        )
    except (ValueError, ValidationError):
        message = "Choose a level, and give the last day as a date (YYYY-MM-DD) or leave it empty."
        return await detail_page(
            *page, failed="share", error=message, values=values, status_code=400
        )
    try:
        await ShareService(session, container).share(principal, plan_id, body)
    except AppError as problem:
        return await refused(*page, problem, "share", values)
    return done(plan_id, "shared", "#shares")


@router.post(
    "/care-plans/{plan_id:uuid}/shares/{share_id:uuid}/revoke", name="portal.cp.share.revoke"
)
async def revoke(
    request: Request,
    plan_id: uuid.UUID,
    share_id: uuid.UUID,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    try:
        await ShareService(session, container).revoke(principal, share_id)
    except AppError as problem:
        page = (request, session, container, principal, plan_id)
        return await refused(*page, problem, "share", {})
    return done(plan_id, "revoked", "#shares")


@router.post(
    "/care-plans/{plan_id:uuid}/shares/{share_id:uuid}/expiry", name="portal.cp.share.expiry"
)
async def change_expiry(
    request: Request,
    plan_id: uuid.UUID,
    share_id: uuid.UUID,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    page = (request, session, container, principal, plan_id)
    try:
        day = date.fromisoformat(form.get("expires_on").strip()[:10])
    except ValueError:
        message = "Give the share's new last day as a date (YYYY-MM-DD)."
        return await detail_page(*page, failed="share", error=message, status_code=400)
    try:
        await ShareService(session, container).change_expiry(principal, share_id, day)
    except AppError as problem:
        return await refused(*page, problem, "share", {})
    return done(plan_id, "extended", "#shares")
