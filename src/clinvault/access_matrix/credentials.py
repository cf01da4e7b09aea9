"""The expected status of every credential route."""

from __future__ import annotations

from clinvault.access_matrix.model import (
    FOREIGN_404,
    PRACTITIONERS,
    SIGNED_IN,
    Actor,
    Case,
    Scenario,
    cells,
    granted,
    own,
)
from clinvault.access_matrix.shapes import list_route


def _credential_object_route(
    method: str, path: str, action: str, *, reviewer: int, owner: int, own_reviewer: int | None
) -> list[Case]:
    """Visible to the practitioner and the organization's reviewers; 404 to anyone else.

    The reviewer of the matrix also holds a practitioner profile, so the reviewer's
    own document exists: a reviewer sees it but never decides on it.
    """
    mine = own(doctor=owner, nurse=owner, credentialing_reviewer=own_reviewer)
    return [
        Case(method, path, action, Scenario.OTHERS, cells(404, credentialing_reviewer=reviewer)),
        Case(method, path, action, Scenario.OWN, mine),
        Case(method, path, action, Scenario.FOREIGN, FOREIGN_404),
    ]


PROFILE_KEEPERS = tuple(a for a in SIGNED_IN if a not in (Actor.ADMIN, Actor.PATIENT))
PROFILE = cells(403, **granted(200, PROFILE_KEEPERS))
"""Staff of a provider organization or a pharmacy may keep a practitioner profile (NPI);
patients never."""

CREDENTIALS = [
    list_route("/api/credentials/categories", "credentials.categories.list", SIGNED_IN),
    Case(
        "POST",
        "/api/credentials/categories",
        "credentials.categories.create",
        Scenario.TENANT,
        cells(403, **granted(201, (Actor.ORG_ADMIN,))),
    ),
    Case(
        "POST",
        "/api/credentials/submissions",
        "credentials.submissions.create",
        Scenario.TENANT,
        cells(403, **granted(201, (*PRACTITIONERS, Actor.CREDENTIALING_REVIEWER))),
    ),
    *_credential_object_route(
        "GET",
        "/api/credentials/submissions/{reference}",
        "credentials.submissions.read",
        reviewer=200,
        owner=200,
        own_reviewer=200,
    ),
    *_credential_object_route(
        "GET",
        "/api/credentials/documents/{document_id}",
        "credentials.documents.read",
        reviewer=200,
        owner=200,
        own_reviewer=200,
    ),
    *_credential_object_route(
        "GET",
        "/api/credentials/documents/{document_id}/content",
        "credentials.documents.content",
        reviewer=200,
        owner=200,
        own_reviewer=200,
    ),
    *_credential_object_route(
        "POST",
        "/api/credentials/documents/{document_id}/decision",
        "credentials.documents.decide",
        reviewer=200,
        owner=403,
        own_reviewer=403,
    ),
    *_credential_object_route(
        "POST",
        "/api/credentials/documents/{document_id}/review",
        "credentials.documents.start_review",
        reviewer=200,
        owner=403,
        own_reviewer=403,
    ),
    *_credential_object_route(
        "POST",
        "/api/credentials/documents/{document_id}/replacement",
        "credentials.documents.replace",
        reviewer=403,
        owner=201,
        own_reviewer=None,
    ),
    list_route("/api/credentials/mine", "credentials.mine", SIGNED_IN),
    list_route(
        "/api/credentials/review-queue", "credentials.review_queue", (Actor.CREDENTIALING_REVIEWER,)
    ),
    list_route("/api/credentials/expiring", "credentials.expiring", SIGNED_IN),
    # Last: saving a profile lets its holder submit, which the submission case must not see.
    Case(
        "GET",
        "/api/credentials/profile",
        "credentials.profile.read",
        Scenario.OWN,
        cells(200),
    ),
    Case("PUT", "/api/credentials/profile", "credentials.profile.update", Scenario.OWN, PROFILE),
]
