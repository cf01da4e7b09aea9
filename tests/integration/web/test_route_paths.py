"""Remembered route paths are exactly what Starlette's search answers."""

from __future__ import annotations

import uuid

import pytest
from fastapi import FastAPI
from starlette.routing import NoMatchFound, Route, Router

from clinvault.web.route_paths import route_path


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("portal.patient.list", {}),
        ("portal.patient.read", {"patient_id": str(uuid.uuid4())}),
        ("portal.home", {}),
        ("static", {"path": "portal.css"}),
    ],
)
def test_a_remembered_path_is_the_one_starlette_gives(
    app: FastAPI, name: str, params: dict[str, str]
) -> None:
    expected = str(app.url_path_for(name, **params))
    assert route_path(app.router, name, params) == expected
    assert route_path(app.router, name, params) == expected


def test_another_parameter_value_gets_its_own_path(app: FastAPI) -> None:
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    assert route_path(app.router, "portal.patient.read", {"patient_id": first}).endswith(first)
    assert route_path(app.router, "portal.patient.read", {"patient_id": second}).endswith(second)


def test_an_unknown_name_or_parameter_is_refused_every_time(app: FastAPI) -> None:
    for _ in range(2):
        with pytest.raises(NoMatchFound):
            route_path(app.router, "portal.patient.read", {"nope": "1"})
        with pytest.raises(NoMatchFound):
            route_path(app.router, "no.such.route", {})


def test_a_route_added_after_the_first_lookup_is_found() -> None:
    router = Router(routes=[Route("/a", lambda _r: None, name="a")])
    assert route_path(router, "a", {}) == "/a"
    with pytest.raises(NoMatchFound):
        route_path(router, "b", {"item_id": "3"})
    router.routes.append(Route("/b/{item_id:int}", lambda _r: None, name="b"))
    assert route_path(router, "b", {"item_id": "3"}) == "/b/3"
