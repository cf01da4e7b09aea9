"""Route paths by name, remembered per application.

`app.url_path_for` tries every route in turn, each refusal an exception; with
a few hundred routes and a page that links every row of a table, that search
was half of the patient list's CPU. A path depends only on the application's
routes, the name and the parameters, so the answer is remembered (a bounded
LRU per router: the navigation, static files and the rows of recent pages)
and the search runs once per distinct link. A router whose routes change
after a first lookup starts a fresh memory.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from starlette.routing import Router

MAX_REMEMBERED = 8192

_Lookup = Callable[[str, tuple[tuple[str, str], ...]], str]
_ATTRIBUTE = "_clinvault_route_paths"


def _lookup_for(router: Router) -> _Lookup:
    @lru_cache(maxsize=MAX_REMEMBERED)
    def lookup(name: str, params: tuple[tuple[str, str], ...]) -> str:
        return str(router.url_path_for(name, **dict(params)))

    return lookup


def route_path(router: Router, name: str, params: dict[str, str]) -> str:
    """What `router.url_path_for(name, **params)` returns, as a string."""
    remembered: tuple[int, _Lookup] | None = getattr(router, _ATTRIBUTE, None)
    if remembered is None or remembered[0] != len(router.routes):
        remembered = (len(router.routes), _lookup_for(router))
        setattr(router, _ATTRIBUTE, remembered)
    return remembered[1](name, tuple(sorted(params.items())))
