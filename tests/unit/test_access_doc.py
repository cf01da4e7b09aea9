"""docs/access-control.md is the rendering of clinvault.access_matrix, never edited apart."""

from __future__ import annotations

from pathlib import Path

from clinvault.access_matrix import CASES, SIGNED_IN, Actor, render_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "access-control.md"
REGENERATE = "python -m clinvault.access_matrix > docs/access-control.md"
PUBLIC_PROBES = {"health.status", "health.live", "health.ready", "health.info"}
# Rule 11: a reset request, and the routes that take a link's token, answer everyone.
OPEN_ROUTES = {
    "auth.password_reset.request",
    "auth.password_reset.confirm",
    "invitations.lookup",
    "invitations.accept",
}


def test_published_reference_equals_the_matrix() -> None:
    assert DOC.read_text(encoding="utf-8") == render_markdown(), (
        f"docs/access-control.md is out of date: run `{REGENERATE}`"
    )


def test_every_case_states_every_actor_and_keys_are_unique() -> None:
    keys = [case.key for case in CASES]
    assert len(keys) == len(set(keys)), "two cases share method, path, variant and scenario"
    for case in CASES:
        assert set(case.expected) == set(Actor), case.key
        assert any(case.expected[actor] is not None for actor in SIGNED_IN), case.key


def test_anonymous_is_always_refused_and_no_cell_is_a_server_error() -> None:
    for case in CASES:
        # Rule 6: a signed upload URL is its own credential; rule 9: probes are public.
        signed = case.variant == "signed URL"
        public = case.action in PUBLIC_PROBES | OPEN_ROUTES
        assert case.expected[Actor.ANONYMOUS] in {401, None} or signed or public, case.key
        for actor, status in case.expected.items():
            assert status is None or 200 <= status < 500, f"{actor} {case.key}"
