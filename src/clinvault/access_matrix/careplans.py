"""The expected status of every care-plan route, with the share levels as relationships.

The targets (tests/integration/role_matrix_careplans.py): *own* is the plan the
doctor wrote for the patient account's chart, shared with the patient (or, in
the "hidden from the patient" variant, not); *someone else's* is another
doctor's plan for another patient of the organization; *other tenant* is a
plan of the other provider organization that is not shared with the actor's.
The *shared at …* scenarios are plans of the other provider organization
shared with the actor's organization at a level and accepted; *share pending*,
*share revoked* and *share expired* are such plans whose share is not live
(rule 8). Nobody shares a plan with a pharmacy or the operators' organization,
so the platform administrator and the pharmacist meet only 404s there.
"""

from __future__ import annotations

from clinvault.access_matrix.model import (
    CLINICAL,
    FOREIGN_404,
    Actor,
    Case,
    Cells,
    Scenario,
    cells,
    granted,
    outsiders,
    own,
)
from clinvault.access_matrix.shapes import foreign_reference, list_route

PLANS = "/api/care-plans"
ITEM = PLANS + "/{plan_id}"
COMMENT = ITEM + "/comments/{comment_id}"
SHARE = PLANS + "/shares/{share_id}"
ATTACHMENT = ITEM + "/attachments/{attachment_id}"

LEVELS = ("view", "comment", "edit")
SHARED = {
    Scenario.SHARED_VIEW: "view",
    Scenario.SHARED_COMMENT: "comment",
    Scenario.SHARED_EDIT: "edit",
}
NOT_LIVE = (Scenario.SHARE_PENDING, Scenario.SHARE_REVOKED, Scenario.SHARE_EXPIRED)
OWNER = "owner"
"""What only the owning organization's clinicians may do, whatever a share's level."""


def _holds(level: str, need: str) -> bool:
    return need != OWNER and LEVELS.index(level) >= LEVELS.index(need)


def _home(ok: int) -> Cells:
    """A plan of the actor's organization: its clinicians act, its other staff are refused
    (403), a patient is shown nothing of another's chart (rule 3), outsiders 404 (rule 2)."""
    return cells(403, **{**granted(ok, CLINICAL), **outsiders(404), "patient": 404})


def _shared(level: str, need: str, ok: int) -> Cells:
    """Another organization's plan under an accepted, live share to the actor's organization:
    its clinicians hold the share's level, its other staff are refused, a patient and the
    outsiders see nothing (rule 8)."""
    status = ok if _holds(level, need) else 403
    return cells(403, **{**granted(status, CLINICAL), **outsiders(404), "patient": 404})


def _plan_route(
    method: str, path: str, action: str, need: str, ok: int, patient: int, variant: str = ""
) -> list[Case]:
    """Every relationship to a plan; `need` is the share level the action takes, `patient`
    what the patient account gets on its own plan when it is shared with the patient."""
    shown = variant or "shared with the patient"
    hidden = f"{variant}, hidden from the patient" if variant else "hidden from the patient"
    result = [
        Case(method, path, action, Scenario.OWN, own(doctor=ok, patient=patient), shown),
        Case(method, path, action, Scenario.OWN, own(patient=404), hidden),
        Case(method, path, action, Scenario.OTHERS, _home(ok), variant),
        Case(method, path, action, Scenario.FOREIGN, FOREIGN_404, variant),
    ]
    result += [
        Case(method, path, action, scenario, _shared(level, need, ok), variant)
        for scenario, level in SHARED.items()
    ]
    result += [Case(method, path, action, scenario, FOREIGN_404, variant) for scenario in NOT_LIVE]
    return result


def _read(path: str, action: str, patient: int = 403, need: str = "view") -> list[Case]:
    return _plan_route("GET", path, action, need, 200, patient)


def _write(path: str, action: str, need: str, ok: int = 200, variant: str = "") -> list[Case]:
    method = "PUT" if path == ITEM else ("PATCH" if path == COMMENT else "POST")
    return _plan_route(method, path, action, need, ok, 403, variant)


def _share_route(method: str, path: str, action: str, others: Cells, pending: Cells) -> list[Case]:
    return [
        Case(method, path, action, Scenario.OTHERS, others),
        Case(method, path, action, Scenario.SHARE_PENDING, pending),
        Case(method, path, action, Scenario.FOREIGN, FOREIGN_404),
    ]


# A share is the owning organization's object: its clinicians change and revoke it; the
# receiving organization, which knows it, accepts it (its clinicians) and nothing more.
HOME_STAFF_403 = cells(403, **outsiders(404))
MANAGED = cells(403, **{**granted(200, CLINICAL), **outsiders(404)})

CAREPLANS = [
    Case("POST", PLANS + "/", "careplans.create", Scenario.TENANT,
         cells(403, **granted(201, CLINICAL))),
    foreign_reference("POST", PLANS + "/", "careplans.create", 404, CLINICAL, "patient_id"),
    list_route(PLANS + "/", "careplans.list", (*CLINICAL, Actor.PATIENT)),
    foreign_reference(
        "GET", PLANS + "/", "careplans.list", 404, (*CLINICAL, Actor.PATIENT), "patient_id"
    ),
    *_read(ITEM, "careplans.read", patient=200),
    *_write(ITEM, "careplans.update", "edit"),
    *_read(ITEM + "/versions", "careplans.versions.list"),
    *_read(ITEM + "/versions/{number}", "careplans.versions.read"),
    *_write(ITEM + "/versions/{number}/restore", "careplans.versions.restore", "edit"),
    *_read(ITEM + "/diff", "careplans.diff"),
    *_write(ITEM + "/watch", "careplans.watch", "view"),
    *_write(ITEM + "/unwatch", "careplans.unwatch", "view"),
    # Comments: at `comment` or above; only its author edits a comment.
    *_read(ITEM + "/comments", "careplans.comments.list"),
    *_write(ITEM + "/comments", "careplans.comments.create", "comment", 201),
    *_write(COMMENT, "careplans.comments.update", "comment", variant="own comment"),
    Case("PATCH", COMMENT, "careplans.comments.update", Scenario.OTHERS, _home(403),
         "the author's comment"),
    Case("PATCH", COMMENT, "careplans.comments.update", Scenario.SHARED_EDIT,
         _shared("edit", "edit", 403), "the author's comment"),
    *_write(COMMENT + "/resolve", "careplans.comments.resolve", "comment"),
    *_write(COMMENT + "/reopen", "careplans.comments.reopen", "comment"),
    # Shares: anyone who holds the plan shares it further at most at their own level
    # (here `view`); only the owning organization lists a plan's shares.
    *_write(ITEM + "/shares", "careplans.shares.create", "view", 201),
    *_read(ITEM + "/shares", "careplans.shares.list", need=OWNER),
    list_route(PLANS + "/shares", "careplans.shares.owned", CLINICAL),
    list_route(PLANS + "/shares/incoming", "careplans.shares.incoming", CLINICAL),
    *_share_route("POST", SHARE + "/accept", "careplans.shares.accept", HOME_STAFF_403,
                  MANAGED),
    *_share_route("PATCH", SHARE, "careplans.shares.update", MANAGED, HOME_STAFF_403),
    *_share_route("POST", SHARE + "/revoke", "careplans.shares.revoke", MANAGED,
                  HOME_STAFF_403),
    # Attached documents: whoever sees the plan lists and downloads them (the patient too,
    # on a plan shared with them); editors add and remove them.
    *_read(ITEM + "/attachments", "careplans.attachments.list", patient=200),
    *_write(ITEM + "/attachments", "careplans.attachments.create", "edit", 201),
    *_read(ATTACHMENT, "careplans.attachments.read", patient=200),
    *_plan_route("DELETE", ATTACHMENT, "careplans.attachments.remove", "edit", 200, 403),
    # Each clinician's own email preference (immediate or daily digest).
    list_route(PLANS + "/preferences", "careplans.preferences.read", CLINICAL),
    Case("PUT", PLANS + "/preferences", "careplans.preferences.update", Scenario.TENANT,
         cells(403, **granted(200, CLINICAL))),
]  # fmt: skip
