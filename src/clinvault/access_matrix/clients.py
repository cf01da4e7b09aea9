"""The API client's column (rule 10), derived from each case by the rule, not by hand.

The client holds the `ingest` scope: on the routes that scope admits it gets the
clerk's status; elsewhere, wherever an anonymous caller must sign in (401), it is
refused (403); routes open to everyone answer it as they answer anonymous callers.
"""

from __future__ import annotations

from dataclasses import replace

from clinvault.access_matrix.model import Actor, Case
from clinvault.identity.clients.scopes import SCOPE_ACTIONS, Scope

CLIENT_SCOPE = Scope.INGEST


def client_cell(case: Case) -> int | None:
    if case.action in SCOPE_ACTIONS[CLIENT_SCOPE]:
        return case.expected[Actor.CLERK]
    anonymous = case.expected[Actor.ANONYMOUS]
    return 403 if anonymous == 401 else anonymous


def with_client(section: list[Case]) -> list[Case]:
    return [
        replace(case, expected={**case.expected, Actor.API_CLIENT: client_cell(case)})
        for case in section
    ]
