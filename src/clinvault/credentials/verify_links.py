"""Where a reviewer checks a credential with its source: links only, never fetched here.

The server builds addresses; the reviewer's browser opens them. The NPI goes
to the national NPPES registry; a licence goes to the issuing board's lookup
when the issuing authority names a board we know, otherwise to a web search
for the authority's verification page. A document number is never put into a
link: it stays between the reviewer and the board's own form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote_plus

NPI_REGISTRY = "https://npiregistry.cms.hhs.gov/provider-view/{npi}"
SEARCH = "https://duckduckgo.com/?q={query}"
FSMB_DOCINFO = "https://www.docinfo.org/"
ABMS_CERTIFICATION = "https://www.certificationmatters.org/"

# Licence lookups of state medical boards, by the state's name or postal code
# as it appears in an issuing authority ("Medical Board of California", "TX").
STATE_BOARDS: dict[str, tuple[str, str]] = {
    "california": ("Medical Board of California", "https://search.dca.ca.gov/"),
    "texas": ("Texas Medical Board", "https://profile.tmb.state.tx.us/"),
    "new york": ("NYSED Office of the Professions", "https://www.op.nysed.gov/verification-search"),
    "florida": (
        "Florida Department of Health",
        "https://mqa-internet.doh.state.fl.us/MQASearchServices/HealthCareProviders",
    ),
}
STATE_CODES = {"ca": "california", "tx": "texas", "ny": "new york", "fl": "florida"}
LICENCE_CATEGORIES = frozenset({"medical_license"})


@dataclass(frozen=True, slots=True)
class CheckLink:
    url: str
    label: str


def npi_registry_link(npi: str | None) -> CheckLink | None:
    if npi is None or not re.fullmatch(r"[0-9]{10}", npi):
        return None
    return CheckLink(NPI_REGISTRY.format(npi=npi), "Check the NPI in the NPPES registry")


def _state_board(authority: str) -> tuple[str, str] | None:
    text = authority.casefold()
    for state, board in STATE_BOARDS.items():
        if re.search(rf"\b{state}\b", text):
            return board
    for code in re.findall(r"\b[a-z]{2}\b", text):
        if code in STATE_CODES:
            return STATE_BOARDS[STATE_CODES[code]]
    return None


def search_link(authority: str, what: str) -> CheckLink:
    query = quote_plus(f"{authority} {what}".strip())
    return CheckLink(SEARCH.format(query=query), f"Search for the {what} of {authority}")


def credential_check_link(category: str, authority: str) -> CheckLink:
    """Where to check a document of `category` issued by `authority`."""
    if category in LICENCE_CATEGORIES:
        board = _state_board(authority)
        if board is not None:
            name, url = board
            return CheckLink(url, f"Check the licence with the {name}")
        if "board" in authority.casefold() and "medical" in authority.casefold():
            return CheckLink(FSMB_DOCINFO, "Check the licence on DocInfo (FSMB)")
        return search_link(authority, "license verification")
    if category == "board_certification":
        return CheckLink(ABMS_CERTIFICATION, "Check the certification with the ABMS")
    return search_link(authority, "verification")
