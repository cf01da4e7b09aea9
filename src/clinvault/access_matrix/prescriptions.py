"""The expected status of every prescription, pharmacy directory and pharmacy queue route.

The targets (tests/integration/role_matrix_world.py): *own* is the doctor's
prescription for the patient account's chart, routed to the pharmacist's
pharmacy; *someone else's* is another doctor's prescription for another
patient of the organization, routed to another pharmacy; *other tenant* is a
prescription of the other provider organization, routed to another pharmacy.
Routes that act on a draft (the scan, signing) target a draft, which no
pharmacy sees until it is signed (rule 7).
"""

from __future__ import annotations

from clinvault.access_matrix.model import (
    CLINICAL,
    FOREIGN_404,
    PRACTITIONERS,
    STAFF,
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

RX = "/api/prescriptions"
ITEM = RX + "/{prescription_id}"
READERS = (Actor.ORG_ADMIN, Actor.DOCTOR, Actor.NURSE)
"""The organization's clinicians read any of its prescriptions."""


def _others(**given: int | None) -> Cells:
    """Someone else's prescription: 403 to the organization's staff without the right, 404
    to a patient (rule 3) and to the actors of other organizations (rules 2 and 7)."""
    return cells(403, **{**outsiders(404), "patient": 404, **given})


def _item(path: str, action: str, method: str, others: Cells, mine: Cells) -> list[Case]:
    return [
        Case(method, path, action, Scenario.OTHERS, others),
        Case(method, path, action, Scenario.OWN, mine),
        Case(method, path, action, Scenario.FOREIGN, FOREIGN_404),
    ]


def _prescriber_move(suffix: str, action: str) -> list[Case]:
    """The named prescriber's moves: hold, resume, cancel, entered-in-error."""
    mine = own(doctor=200, patient=403, pharmacist=403)
    return _item(f"{ITEM}/{suffix}", action, "POST", _others(), mine)


def _pharmacy_move(suffix: str, action: str) -> list[Case]:
    """The routed pharmacy's moves: claim, dispense, decline, decide on a cancel request."""
    mine = own(doctor=403, patient=403, pharmacist=200)
    return _item(f"{ITEM}/{suffix}", action, "POST", _others(), mine)


READ = _others(**granted(200, READERS))
SEEN_BY_ALL_THREE = own(doctor=200, patient=200, pharmacist=200)

PRESCRIPTIONS = [
    Case("POST", RX + "/", "prescriptions.create", Scenario.TENANT,
         cells(403, **granted(201, PRACTITIONERS))),
    foreign_reference("POST", RX + "/", "prescriptions.create", 404, PRACTITIONERS, "patient_id"),
    list_route(RX + "/", "prescriptions.list", (*CLINICAL, Actor.PATIENT)),
    foreign_reference(
        "GET", RX + "/", "prescriptions.list", 404, (*CLINICAL, Actor.PATIENT), "patient_id"
    ),
    list_route(RX + "/policy", "prescriptions.policy.read", CLINICAL),
    Case("PUT", RX + "/policy", "prescriptions.policy.update", Scenario.TENANT,
         cells(403, org_admin=200)),
    # The link printed on the paper copy: any pharmacist checks it, nobody else.
    Case("GET", RX + "/verify/{token}", "prescriptions.verify", Scenario.TENANT,
         cells(403, pharmacist=200), "verification link"),
    *_item(ITEM, "prescriptions.read", "GET", READ, SEEN_BY_ALL_THREE),
    *_item(ITEM + "/pdf", "prescriptions.pdf", "GET", READ, SEEN_BY_ALL_THREE),
    # A draft: its author or prescriber attaches the scan; no pharmacy sees a draft.
    *_item(ITEM + "/document", "prescriptions.document.create", "POST", _others(),
           own(doctor=201, patient=403, pharmacist=404)),
    *_item(ITEM + "/document", "prescriptions.document.read", "GET", _others(),
           SEEN_BY_ALL_THREE),
    *_item(ITEM + "/sign", "prescriptions.sign", "POST", _others(),
           own(doctor=200, patient=403, pharmacist=404)),
    *_prescriber_move("hold", "prescriptions.hold"),
    *_prescriber_move("resume", "prescriptions.resume"),
    *_prescriber_move("cancel", "prescriptions.cancel"),
    *_prescriber_move("entered-in-error", "prescriptions.entered_in_error"),
    # The patient or the prescriber routes an unclaimed fill to another pharmacy.
    *_item(ITEM + "/pharmacy", "prescriptions.change_pharmacy", "POST", _others(),
           own(doctor=200, patient=200, pharmacist=403)),
    *_pharmacy_move("claim", "prescriptions.claim"),
    *_pharmacy_move("dispense", "prescriptions.dispense"),
    *_pharmacy_move("decline", "prescriptions.decline"),
    *_pharmacy_move("cancel-decision", "prescriptions.cancel_decision"),
]  # fmt: skip

PHARMACY = [
    # The directory: a provider organization's staff and its patients (name, address, phone).
    list_route("/api/pharmacies", "prescriptions.pharmacies.search", (*STAFF, Actor.PATIENT)),
    # The work queue exists only in a pharmacy: 404 to everyone else (rule 7).
    Case("GET", "/api/pharmacy/queue", "prescriptions.queue", Scenario.TENANT,
         cells(404, pharmacist=200)),
]  # fmt: skip
