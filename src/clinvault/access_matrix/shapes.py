"""Shapes of cases that many routes share: chart objects, creates, lists, foreign references."""

from __future__ import annotations

from collections.abc import Iterable

from clinvault.access_matrix.model import (
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


def object_cells(ok: int, allowed: Iterable[Actor]) -> tuple[Cells, Cells]:
    """(someone else's, own) cells of a chart object: a patient sees only its own chart.

    The platform administrator's and the pharmacist's tenants are not the chart's: 404
    (rule 2).
    """
    allowed = tuple(allowed)
    others = cells(403, **{**granted(ok, allowed), **outsiders(404), "patient": 404})
    mine = own(patient=ok if Actor.PATIENT in allowed else 403)
    return others, mine


def chart_route(
    method: str, path: str, action: str, ok: int, allowed: Iterable[Actor], variant: str = ""
) -> list[Case]:
    others, mine = object_cells(ok, allowed)
    return [
        Case(method, path, action, Scenario.OTHERS, others, variant),
        Case(method, path, action, Scenario.OWN, mine, variant),
        Case(method, path, action, Scenario.FOREIGN, FOREIGN_404, variant),
    ]


def create_route(path: str, action: str, allowed: Iterable[Actor]) -> list[Case]:
    """A create for a patient: of the actor's organization, or (by id) of another one."""
    allowed = tuple(allowed)
    return [
        Case("POST", path, action, Scenario.TENANT, cells(403, **granted(201, allowed))),
        foreign_reference("POST", path, action, 404, allowed, "patient_id"),
    ]


def foreign_reference(
    method: str, path: str, action: str, status: int, allowed: Iterable[Actor], variant: str
) -> Case:
    """A collection route naming another tenant's object in its body or query.

    A role that may never perform the action is refused (403) before anything
    is looked up; a role that may is told the object does not exist (404).
    """
    return Case(
        method, path, action, Scenario.FOREIGN, cells(403, **granted(status, allowed)), variant
    )


def list_route(path: str, action: str, allowed: Iterable[Actor], variant: str = "") -> Case:
    return Case("GET", path, action, Scenario.TENANT, cells(403, **granted(200, allowed)), variant)
