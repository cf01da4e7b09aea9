"""The expected status of password reset and of pending invitations.

Asking for a reset link is open to everyone and answers 202 whatever the
address; confirming needs only the link's token (here an unknown one: 404).
Pending invitations belong to the organization administrators (and the
platform administrator, for the operators' own tenant).
"""

from __future__ import annotations

from clinvault.access_matrix.model import (
    FOREIGN_404,
    ORG_MANAGERS,
    Case,
    Scenario,
    cells,
    granted,
    outsiders,
)
from clinvault.access_matrix.shapes import list_route

RESET = "/api/auth/password-reset"
INVITATIONS = "/api/invitations"
RESEND = INVITATIONS + "/{invitation_id}/resend"
REVOKE = INVITATIONS + "/{invitation_id}"

ACCOUNTS = [
    Case("POST", RESET, "auth.password_reset.request", Scenario.TENANT, cells(202, anonymous=202)),
    Case("POST", RESET + "/confirm", "auth.password_reset.confirm", Scenario.TENANT,
         cells(404, anonymous=404), "an unknown token"),
    list_route(INVITATIONS, "invitations.list", ORG_MANAGERS),
    Case("POST", INVITATIONS, "invitations.create", Scenario.TENANT,
         cells(403, **granted(201, ORG_MANAGERS))),
    Case("GET", INVITATIONS + "/{token}", "invitations.lookup", Scenario.TENANT,
         cells(404, anonymous=404), "an unknown token"),
    Case("POST", INVITATIONS + "/accept", "invitations.accept", Scenario.TENANT,
         cells(404, anonymous=404), "an unknown token"),
    # The tenant-scoped lookup answers first: outsiders get 404 (rule 2).
    Case("POST", RESEND, "invitations.resend", Scenario.OTHERS,
         cells(403, org_admin=200, **outsiders(404))),
    Case("POST", RESEND, "invitations.resend", Scenario.FOREIGN, FOREIGN_404),
    Case("DELETE", REVOKE, "invitations.revoke", Scenario.OTHERS,
         cells(403, org_admin=204, **outsiders(404))),
    Case("DELETE", REVOKE, "invitations.revoke", Scenario.FOREIGN, FOREIGN_404),
]  # fmt: skip
