"""The vocabulary of the matrix: actors, scenarios, cases and the cell helpers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

RULES: tuple[str, ...] = (
    "1. Not signed in: 401 on every route.",
    "2. Another tenant's object named in the path: 404 for every signed-in actor,",
    "   whatever the role (the tenant-scoped lookup answers before any permission",
    "   check). The tenant comes from the principal, and the platform operators'",
    "   tenant holds no clinical data: only user administration and the audit",
    "   views let the platform administrator see across tenants.",
    "3. A patient account sees its own chart (demographics, records,",
    "   appointments) and nothing else: anyone else's chart is 404, lists hold",
    "   only its own rows, and acting on its own chart without the permission is 403.",
    "4. A credential document or submission is visible to its practitioner and to",
    "   the organization's credentialing reviewers only; to anyone else it is 404.",
    "   A reviewer never decides on their own documents (403).",
    "5. Otherwise deny by default: an action the role is not granted is 403. On a",
    "   collection route (list, search, create) that refusal comes first, before",
    "   anything is looked up, so another tenant's id or organization in the body",
    "   or query is 403 for such a role and 404 for a role that may act.",
    "6. A signed upload URL is its own credential: whoever holds it may PUT the",
    "   file once, before it expires, signed in or not (any alteration is 403).",
    "7. A prescription is its provider organization's object, shared with one",
    "   pharmacy through a grant once signed. The named prescriber moves it, its",
    "   patient reads it and chooses the pharmacy, the organization's clinicians",
    "   read it, and the routed pharmacy's pharmacists claim, dispense, decline and",
    "   read what they need (others of the organization: 403). To a pharmacist",
    "   every prescription not routed to their pharmacy, a draft included, is 404;",
    "   the pharmacy work queue is 404 to anyone outside a pharmacy. Any pharmacist",
    "   may check a paper copy's verification link.",
    "8. A care plan is its provider organization's object: the organization's",
    "   clinicians read and change it, and its patient account reads it, read-only",
    "   and without history or comments, once it is marked as shared with the",
    "   patient (otherwise it is 404 to the patient). Another provider organization",
    "   sees it only through an accepted share that is neither revoked nor expired,",
    "   at the share's level (view < comment < edit; sharing further at most at",
    "   one's own level); without such a share it is 404, and with one it is 403 to",
    "   that organization's staff who are not clinicians. Shares are managed by the",
    "   owning organization's clinicians and accepted by the receiving one's.",
    "9. The health routes (live, ready, health, info) answer everyone, signed in",
    "   or not; the metrics are for organization administrators (and the platform",
    "   administrator), or a scraper holding the configured scrape token.",
    "10. An API client (`api_client`: a machine caller of the provider organization",
    "   holding the `ingest` scope, signed in by the client-credentials grant) is",
    "   denied by default: 403 on every route that needs a caller, whatever the",
    "   scenario, except the routes of its scope (CSV ingest, but not its settings),",
    "   where it gets what a clerk gets; routes open to everyone answer it as they",
    "   answer anyone.",
    "11. Asking for a password-reset link answers everyone alike (202, whatever the",
    "   address); a reset or invitation link's token is its own credential, so the",
    "   routes that take one answer everyone, signed in or not (an unknown token: 404).",
)
"""The rules the expectations follow, as published in docs/access-control.md."""


class Actor(StrEnum):
    ADMIN = "admin"
    ORG_ADMIN = "org_admin"
    DOCTOR = "doctor"
    NURSE = "nurse"
    CLERK = "clerk"
    CREDENTIALING_REVIEWER = "credentialing_reviewer"
    PHARMACIST = "pharmacist"
    PATIENT = "patient"
    API_CLIENT = "api_client"
    ANONYMOUS = "anonymous"


SIGNED_IN: tuple[Actor, ...] = tuple(actor for actor in Actor if actor is not Actor.ANONYMOUS)


class Scenario(StrEnum):
    """What the request targets, seen from the actor (who belongs to the home tenant)."""

    TENANT = "own tenant"
    """A collection of the actor's own organization (list, search, create)."""
    OTHERS = "someone else's"
    """An object of the actor's organization that is not the actor's own."""
    OWN = "own"
    """The actor's own object: the patient's chart, the practitioner's document, the account."""
    FOREIGN = "other tenant"
    """An object (or an organization filter) of another organization."""
    SHARED_VIEW = "shared at view"
    SHARED_COMMENT = "shared at comment"
    SHARED_EDIT = "shared at edit"
    """Another organization's care plan, shared with the actor's organization and accepted."""
    SHARE_PENDING = "share pending"
    SHARE_REVOKED = "share revoked"
    SHARE_EXPIRED = "share expired"
    """Another organization's care plan whose share to the actor's organization is not live."""


SCENARIO_MEANING: dict[Scenario, str] = {
    Scenario.TENANT: "a collection of the actor's own organization (list, search, create)",
    Scenario.OTHERS: (
        "an object of the actor's organization that is not the actor's own (for the "
        "platform administrator and the pharmacist: an object of the provider organization, "
        "another tenant's to them; for prescriptions: another doctor's, for another patient, "
        "routed to another pharmacy; for care plans: another doctor's plan for another "
        "patient, and for their shares: a share that doctor made of it to the other "
        "organization)"
    ),
    Scenario.OWN: (
        "the actor's own object: the patient account's chart, the practitioner's own "
        "credential document (the credentialing reviewer also holds a practitioner "
        "profile, so has documents of their own), the user's own account, profile or "
        "notification; the prescription the doctor wrote for the patient account's chart, "
        "routed to the pharmacist's pharmacy; the care plan the doctor wrote for the patient "
        "account's chart, shared with the patient or (hidden from the patient) not"
    ),
    Scenario.FOREIGN: "an object of another organization, or a filter naming it",
    Scenario.SHARED_VIEW: (
        "a care plan of the other provider organization, shared with the actor's "
        "organization at `view` and accepted by it"
    ),
    Scenario.SHARED_COMMENT: "the same, shared at `comment`",
    Scenario.SHARED_EDIT: "the same, shared at `edit`",
    Scenario.SHARE_PENDING: (
        "a care plan of the other provider organization shared with the actor's "
        "organization, the share not yet accepted (for the share routes: that share)"
    ),
    Scenario.SHARE_REVOKED: "the same, the share accepted and then revoked by its owner",
    Scenario.SHARE_EXPIRED: "the same, the share accepted and past its expiry",
}

Cells = Mapping[Actor, int | None]
"""Expected status per actor; None where the scenario does not exist for that actor."""


@dataclass(frozen=True, slots=True)
class Case:
    method: str
    path: str
    action: str
    scenario: Scenario
    expected: Cells
    variant: str = ""
    """Distinguishes two cases of the same route and scenario (e.g. which fields change)."""

    @property
    def key(self) -> str:
        variant = f" [{self.variant}]" if self.variant else ""
        return f"{self.method} {self.path}{variant} ({self.scenario.value})"


def cells(default: int | None, /, anonymous: int | None = 401, **given: int | None) -> Cells:
    """Every signed-in actor gets `default` unless named in `given`."""
    result: dict[Actor, int | None] = dict.fromkeys(SIGNED_IN, default)
    result[Actor.ANONYMOUS] = anonymous
    for name, status in given.items():
        result[Actor(name)] = status
    return result


def own(**given: int | None) -> Cells:
    """A scenario that exists only for the actors named (the others have no own object)."""
    return cells(None, anonymous=None, **given)


def granted(status: int, actors: Iterable[Actor]) -> dict[str, int]:
    return {actor.value: status for actor in actors}


FOREIGN_404 = cells(404)

OUTSIDERS = (Actor.ADMIN, Actor.PHARMACIST)
"""The actors whose organization is not the home provider's (the operators', a pharmacy):
its objects are another tenant's to them (rule 2)."""


def outsiders(status: int | None) -> dict[str, int | None]:
    return {actor.value: status for actor in OUTSIDERS}


FRONT_DESK = (Actor.ORG_ADMIN, Actor.CLERK)
CLINICAL = (Actor.ORG_ADMIN, Actor.DOCTOR, Actor.NURSE)
STAFF = (Actor.ORG_ADMIN, Actor.DOCTOR, Actor.NURSE, Actor.CLERK)
PRACTITIONERS = (Actor.DOCTOR, Actor.NURSE)
ORG_MANAGERS = (Actor.ADMIN, Actor.ORG_ADMIN)
