"""The requests behind the care-plan cases, with the share levels as relationships.

Targets by scenario (clinvault.access_matrix.careplans): *own* is the doctor's
plan for the patient account's chart, shared with the patient (or, in the
"hidden" variants, not); *someone else's* the colleague's plan for another
patient; *other tenant* a plan of the other clinic's doctor, not shared; the
*shared at …* scenarios a plan of the other clinic's doctor shared with the
home organization at that level and accepted by its doctor; *share pending*
not yet accepted; *share revoked* accepted then revoked by its owner; *share
expired* accepted and then past its expiry (the one change made to a row
directly: an expiry is never accepted in the past through the API). Plans and
shares are made through the API by the owning clinic's doctor. A case that
may change its target gets a plan (and share, comment) of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

from tests.integration.role_matrix_world import Account, Request, World
from tests.unit.filecheck.corpus import valid_pdf, valid_png

from clinvault.access_matrix import Actor, Case, Scenario
from clinvault.models.careplans import CarePlanShare
from clinvault.timeutil import utcnow

PLANS = "/api/care-plans"
Builder = Callable[[World, Case, Actor], Awaitable[Request]]
LEVEL = {
    Scenario.SHARED_VIEW: "view",
    Scenario.SHARED_COMMENT: "comment",
    Scenario.SHARED_EDIT: "edit",
    Scenario.SHARE_PENDING: "edit",
    Scenario.SHARE_REVOKED: "edit",
    Scenario.SHARE_EXPIRED: "edit",
}
"""The level of the share to the home organization (a dead share grants `edit`)."""


def _fresh(case: Case, actor: Actor) -> bool:
    expected = case.expected[actor]
    return case.method != "GET" and expected is not None and expected < 300


def _hidden(case: Case) -> bool:
    return "hidden" in case.variant


def _owner(world: World, scenario: Scenario) -> Account:
    """Who wrote the plan of the scenario."""
    if scenario is Scenario.OWN:
        return world.staff["doctor"]
    if scenario is Scenario.OTHERS:
        return world.staff["colleague"]
    return world.foreign["doctor"]


async def _patient(world: World, scenario: Scenario) -> str:
    if scenario is Scenario.OWN:
        own: str = world.cache["own patient"]
        return own
    foreign = scenario is not Scenario.OTHERS
    found: str = await world.once(f"patient {foreign}", lambda: world.patient(foreign=foreign))
    return found


def plan_body(patient_id: str, *, shared_with_patient: bool = False) -> dict[str, Any]:
    return {
        "patient_id": patient_id,
        "title": "Hypertension plan",
        "status": "active",
        "goals": ["Blood pressure below 130/80"],
        "activities": [{"what": "Home blood pressure log", "when": "daily"}],
        "body": "Reduce salt.\nWalk daily.\n",
        "shared_with_patient": shared_with_patient,
    }


async def _share(world: World, owner: Account, plan: str, body: dict[str, Any]) -> str:
    made = await world.call(owner, "POST", f"{PLANS}/{plan}/shares", json=body)
    return str(made["id"])


async def _to_home(world: World, plan: str, scenario: Scenario) -> str:
    """The other clinic's doctor shares the plan with the home organization, and the share
    is brought to the scenario's state; its id."""
    owner = world.foreign["doctor"]
    body = {"organization_id": str(world.home.id), "level": LEVEL[scenario]}
    share = await _share(world, owner, plan, body)
    if scenario is Scenario.SHARE_PENDING:
        return share
    await world.call(world.staff["doctor"], "POST", f"{PLANS}/shares/{share}/accept")
    if scenario is Scenario.SHARE_REVOKED:
        await world.call(owner, "POST", f"{PLANS}/shares/{share}/revoke")
    if scenario is Scenario.SHARE_EXPIRED:
        async with world.container.db.unit_of_work() as session:
            row = await session.get(CarePlanShare, uuid.UUID(share))
            assert row is not None
            row.expires_at = utcnow() - timedelta(seconds=1)
    return share


async def _new_plan(world: World, scenario: Scenario, hidden: bool = False) -> tuple[str, str]:
    """(id, ETag) of a new plan of the scenario, shared as the scenario says."""
    owner = _owner(world, scenario)
    shown = scenario is Scenario.OWN and not hidden
    body = plan_body(await _patient(world, scenario), shared_with_patient=shown)
    created = await world.call(owner, "POST", f"{PLANS}/", json=body)
    plan = str(created["id"])
    if scenario in LEVEL:
        await _to_home(world, plan, scenario)
    return plan, str(created["etag"])


async def _plan(world: World, case: Case, actor: Actor) -> tuple[str, str]:
    if _fresh(case, actor):
        return await _new_plan(world, case.scenario, _hidden(case))
    key = f"care plan {case.scenario} {_hidden(case)}"
    found: tuple[str, str] = await world.once(
        key, lambda: _new_plan(world, case.scenario, _hidden(case))
    )
    return found


async def _comment(world: World, case: Case, actor: Actor, plan: str) -> str:
    """A thread on the plan: the actor's own where the case is about the actor's comment
    and the actor may comment, otherwise one by the plan's author."""
    writer = _owner(world, case.scenario)
    if case.variant.startswith("own comment") and _fresh(case, actor):
        account = world.account(actor)
        assert account is not None
        writer = account
    body = {"body": "Check the log at the next visit.", "goal_index": 0}
    made = await world.call(writer, "POST", f"{PLANS}/{plan}/comments", json=body)
    return str(made["id"])


async def _attachment(world: World, case: Case, plan: str) -> str:
    """A document on the plan, added by the plan's author."""
    files = [("file", ("labs.pdf", valid_pdf(), "application/pdf"))]
    made = await world.call(
        _owner(world, case.scenario), "POST", f"{PLANS}/{plan}/attachments", files=files
    )
    return str(made["id"])


def _share_body(world: World, scenario: Scenario) -> dict[str, str]:
    """A further share at `view`: a home plan to the other clinic, another clinic's plan to
    the home colleague."""
    if scenario in (Scenario.OWN, Scenario.OTHERS):
        return {"organization_id": str(world.other.id), "level": "view"}
    return {"user_id": str(world.staff["colleague"].id), "level": "view"}


async def plan_item(world: World, case: Case, actor: Actor) -> Request:
    plan, etag = await _plan(world, case, actor)
    ids: dict[str, str] = {"plan_id": plan, "number": "1"}
    if "{comment_id}" in case.path:
        if _fresh(case, actor):
            ids["comment_id"] = await _comment(world, case, actor, plan)
        else:
            key = f"comment {case.scenario} {_hidden(case)}"
            ids["comment_id"] = await world.once(key, lambda: _comment(world, case, actor, plan))
    if "{attachment_id}" in case.path:
        if _fresh(case, actor):
            ids["attachment_id"] = await _attachment(world, case, plan)
        else:
            key = f"attachment {case.scenario} {_hidden(case)}"
            ids["attachment_id"] = await world.once(key, lambda: _attachment(world, case, plan))
    url = case.path.format(**ids)
    if case.action == "careplans.attachments.create":
        return Request("POST", url, files=[("file", ("scan.png", valid_png(), "image/png"))])
    if case.action == "careplans.update":
        body = plan_body(await _patient(world, case.scenario)) | {"title": "Revised plan"}
        body.pop("patient_id")
        return Request("PUT", url, json=body, headers={"If-Match": etag})
    if case.action == "careplans.versions.restore":
        return Request("POST", url, headers={"If-Match": etag})
    if case.action == "careplans.diff":
        return Request("GET", url, params={"from": "1", "to": "1"})
    if case.action == "careplans.comments.create":
        return Request("POST", url, json={"body": "Agreed; review in a month."})
    if case.action == "careplans.comments.update":
        return Request("PATCH", url, json={"body": "Check the log at every visit."})
    if case.action == "careplans.shares.create":
        return Request("POST", url, json=_share_body(world, case.scenario))
    return Request(case.method, url)


async def _new_share(world: World, scenario: Scenario) -> str:
    """Someone else's: the colleague's share of their plan to the other clinic (pending);
    share pending: the other clinic's share of its plan to the home organization; other
    tenant: the other clinic's share of its plan to one of its own administrators."""
    if scenario is Scenario.OTHERS:
        plan, _ = await _new_plan(world, Scenario.OTHERS)
        body = {"organization_id": str(world.other.id), "level": "comment"}
        return await _share(world, world.staff["colleague"], plan, body)
    plan, _ = await _new_plan(world, Scenario.FOREIGN)
    if scenario is Scenario.SHARE_PENDING:
        return await _to_home(world, plan, scenario)
    body = {"user_id": str(world.foreign["org_admin"].id), "level": "view"}
    return await _share(world, world.foreign["doctor"], plan, body)


async def share_item(world: World, case: Case, actor: Actor) -> Request:
    if _fresh(case, actor):
        share = await _new_share(world, case.scenario)
    else:
        share = await world.once(f"share {case.scenario}", lambda: _new_share(world, case.scenario))
    url = case.path.format(share_id=share)
    if case.action == "careplans.shares.update":
        later = (date.today() + timedelta(days=30)).isoformat()
        return Request("PATCH", url, json={"expires_on": later})
    return Request("POST", url)


async def plans_collection(world: World, case: Case, actor: Actor) -> Request:
    foreign = case.scenario is Scenario.FOREIGN
    patient = await _patient(world, Scenario.FOREIGN if foreign else Scenario.OWN)
    if case.action == "careplans.create":
        return Request("POST", case.path, json=plan_body(patient))
    if case.action == "careplans.preferences.update":
        return Request("PUT", case.path, json={"email": "daily_digest"})
    if case.action == "careplans.list" and foreign:
        return Request("GET", case.path, params={"patient_id": patient})
    return Request(case.method, case.path)


BUILDERS: dict[str, Builder] = {
    "careplans.create": plans_collection,
    "careplans.list": plans_collection,
    "careplans.shares.owned": plans_collection,
    "careplans.shares.incoming": plans_collection,
    "careplans.read": plan_item,
    "careplans.update": plan_item,
    "careplans.versions.list": plan_item,
    "careplans.versions.read": plan_item,
    "careplans.versions.restore": plan_item,
    "careplans.diff": plan_item,
    "careplans.watch": plan_item,
    "careplans.unwatch": plan_item,
    "careplans.comments.list": plan_item,
    "careplans.comments.create": plan_item,
    "careplans.comments.update": plan_item,
    "careplans.comments.resolve": plan_item,
    "careplans.comments.reopen": plan_item,
    "careplans.shares.create": plan_item,
    "careplans.shares.list": plan_item,
    "careplans.shares.accept": share_item,
    "careplans.shares.update": share_item,
    "careplans.shares.revoke": share_item,
    "careplans.attachments.list": plan_item,
    "careplans.attachments.create": plan_item,
    "careplans.attachments.read": plan_item,
    "careplans.attachments.remove": plan_item,
    "careplans.preferences.read": plans_collection,
    "careplans.preferences.update": plans_collection,
}
