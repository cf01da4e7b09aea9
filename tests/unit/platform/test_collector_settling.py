"""A serving process keeps its start-up objects out of later full collections."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from clinvault import main
from clinvault.cli.server import APP_FACTORY
from clinvault.heap import settle_collector_after_startup


@pytest.fixture
def collector() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_start_up_objects_are_frozen_and_young_collections_are_rarer(collector: None) -> None:
    built_at_start_up = [{"route": n} for n in range(1000)]
    settle_collector_after_startup()
    assert gc.get_freeze_count() >= len(built_at_start_up)
    assert gc.get_threshold() == (20_000, 50, 100)


def test_serve_runs_the_served_application(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: dict[str, object] = {}
    monkeypatch.setattr(main, "create_app", lambda **kwargs: asked.update(kwargs))
    module, name = APP_FACTORY.split(":")
    assert module == "clinvault.main"
    getattr(main, name)()
    assert asked == {"served": True}
