"""The access-control matrix: who gets which status code on which route, as data.

One source of truth for three readers: the table-driven test
(tests/integration/test_role_matrix.py) sends every request below as every
actor and asserts the exact status; the published reference
(docs/access-control.md) is rendered from it by
`python -m clinvault.access_matrix > docs/access-control.md`; and a unit test
keeps the two equal.

The expectations come from the requirements (issues 3 and 4, DESIGN.md), not
from what the code returns; the rules they follow are `model.RULES`.
"""

from __future__ import annotations

from clinvault.access_matrix.cases import CASES, COVERED_PREFIXES, SECTIONS, routes
from clinvault.access_matrix.model import SIGNED_IN, Actor, Case, Cells, Scenario
from clinvault.access_matrix.render import render_markdown

__all__ = [
    "CASES",
    "COVERED_PREFIXES",
    "SECTIONS",
    "SIGNED_IN",
    "Actor",
    "Case",
    "Cells",
    "Scenario",
    "render_markdown",
    "routes",
]
