"""The expected status of every route of the records platform, users, audit and credentials."""

from __future__ import annotations

from collections.abc import Iterable

from clinvault.access_matrix.model import (
    CLINICAL,
    FOREIGN_404,
    FRONT_DESK,
    ORG_MANAGERS,
    PRACTITIONERS,
    SIGNED_IN,
    STAFF,
    Actor,
    Case,
    Cells,
    Scenario,
    cells,
    granted,
    own,
)


def _object_cells(ok: int, allowed: Iterable[Actor]) -> tuple[Cells, Cells]:
    """(someone else's, own) cells of a chart object: a patient sees only its own chart.

    The platform administrator's tenant is not the chart's: 404 (rule 2).
    """
    allowed = tuple(allowed)
    others = cells(403, **{**granted(ok, allowed), "admin": 404, "patient": 404})
    mine = own(patient=ok if Actor.PATIENT in allowed else 403)
    return others, mine


def _chart_route(
    method: str, path: str, action: str, ok: int, allowed: Iterable[Actor], variant: str = ""
) -> list[Case]:
    others, mine = _object_cells(ok, allowed)
    return [
        Case(method, path, action, Scenario.OTHERS, others, variant),
        Case(method, path, action, Scenario.OWN, mine, variant),
        Case(method, path, action, Scenario.FOREIGN, FOREIGN_404, variant),
    ]


def _create_route(path: str, action: str, allowed: Iterable[Actor]) -> list[Case]:
    """A create for a patient: of the actor's organization, or (by id) of another one."""
    allowed = tuple(allowed)
    return [
        Case("POST", path, action, Scenario.TENANT, cells(403, **granted(201, allowed))),
        _foreign_reference("POST", path, action, 404, allowed, "patient_id"),
    ]


def _foreign_reference(
    method: str, path: str, action: str, status: int, allowed: Iterable[Actor], variant: str
) -> Case:
    """A collection route naming another tenant's object in its body or query.

    A role that may never perform the action is refused (403) before anything
    is looked up; a role that may is told the object does not exist (404).
    """
    return Case(
        method, path, action, Scenario.FOREIGN, cells(403, **granted(status, allowed)), variant
    )


def _list_route(path: str, action: str, allowed: Iterable[Actor], variant: str = "") -> Case:
    return Case("GET", path, action, Scenario.TENANT, cells(403, **granted(200, allowed)), variant)


PATIENTS = [
    Case(
        "POST",
        "/api/patients/",
        "records.patient.create",
        Scenario.TENANT,
        cells(403, **granted(201, STAFF)),
    ),
    _list_route("/api/patients/", "records.patient.list", (*STAFF, Actor.PATIENT)),
    _list_route("/api/patients/search", "records.patient.search", (*STAFF, Actor.PATIENT)),
    *_chart_route(
        "GET", "/api/patients/{patient_id}", "records.patient.read", 200, (*STAFF, Actor.PATIENT)
    ),
    *_chart_route(
        "PUT", "/api/patients/{patient_id}", "records.patient.update", 200, STAFF, "clinical fields"
    ),
    *_chart_route(
        "PUT",
        "/api/patients/{patient_id}",
        "records.patient.update",
        200,
        FRONT_DESK,
        "demographic fields",
    ),
    *_chart_route(
        "POST",
        "/api/patients/{patient_id}/link-user",
        "records.patient.link_user",
        200,
        FRONT_DESK,
    ),
]

RECORDS = [
    *_create_route("/api/records/", "records.record.create", CLINICAL),
    _list_route("/api/records/", "records.record.list", (*CLINICAL, Actor.PATIENT)),
    _foreign_reference(
        "GET", "/api/records/", "records.record.list", 404, (*CLINICAL, Actor.PATIENT), "patient_id"
    ),
    _list_route("/api/records/types", "records.record.types", SIGNED_IN),
    *_chart_route(
        "GET", "/api/records/{record_id}", "records.record.read", 200, (*CLINICAL, Actor.PATIENT)
    ),
    *_chart_route(
        "GET",
        "/api/records/patient/{patient_id}",
        "records.record.list_for_patient",
        200,
        (*CLINICAL, Actor.PATIENT),
    ),
    *_chart_route(
        "POST", "/api/records/{record_id}/amendments", "records.record.amend", 201, CLINICAL
    ),
    *_chart_route(
        "POST", "/api/records/{record_id}/attachments", "records.attachment.create", 201, CLINICAL
    ),
    *_chart_route(
        "GET",
        "/api/records/{record_id}/attachments/{attachment_id}/content",
        "records.attachment.read",
        200,
        (*CLINICAL, Actor.PATIENT),
    ),
]

APPOINTMENTS = [
    *_create_route("/api/appointments/", "records.appointment.book", FRONT_DESK),
    _list_route("/api/appointments/", "records.appointment.list", (*STAFF, Actor.PATIENT)),
    *_chart_route(
        "GET",
        "/api/appointments/{appointment_id}",
        "records.appointment.read",
        200,
        (*STAFF, Actor.PATIENT),
    ),
    *_chart_route(
        "PUT",
        "/api/appointments/{appointment_id}",
        "records.appointment.reschedule",
        200,
        FRONT_DESK,
    ),
    *_chart_route(
        "POST",
        "/api/appointments/{appointment_id}/cancel",
        "records.appointment.cancel",
        200,
        FRONT_DESK,
    ),
]


def _user_route(method: str, path: str, action: str, own_cells: Cells | None) -> list[Case]:
    """Organization administrators manage their members; platform administrators everyone."""
    result = [
        Case(method, path, action, Scenario.OTHERS, cells(403, **granted(200, ORG_MANAGERS))),
        Case(method, path, action, Scenario.FOREIGN, cells(404, admin=200)),
    ]
    if own_cells is not None:
        result.insert(1, Case(method, path, action, Scenario.OWN, own_cells))
    return result


USERS = [
    _list_route("/api/users/", "users.list", ORG_MANAGERS),
    Case(
        "GET",
        "/api/users/",
        "users.list",
        Scenario.FOREIGN,
        cells(403, admin=200, org_admin=404),
        "organization_id",
    ),
    _list_route("/api/users/roles", "users.roles", SIGNED_IN),
    Case(
        "POST",
        "/api/users/",
        "users.create",
        Scenario.TENANT,
        cells(403, **granted(201, ORG_MANAGERS)),
    ),
    *_user_route("GET", "/api/users/{user_id}", "users.read", cells(200, anonymous=None)),
    *_user_route(
        "PUT",
        "/api/users/{user_id}",
        "users.change",
        cells(403, anonymous=None, **granted(200, ORG_MANAGERS)),
    ),
    *_user_route(
        "PATCH",
        "/api/users/{user_id}",
        "users.update",
        cells(403, anonymous=None, **granted(200, ORG_MANAGERS)),
    ),
    *_user_route(
        "POST",
        "/api/users/{user_id}/deactivate",
        "users.deactivate",
        cells(403, anonymous=None, **granted(409, ORG_MANAGERS)),
    ),
    *_user_route("POST", "/api/users/{user_id}/activate", "users.activate", None),
]


def _audit_route(path: str, action: str) -> list[Case]:
    return [
        _list_route(path, action, ORG_MANAGERS),
        Case(
            "GET",
            path,
            action,
            Scenario.FOREIGN,
            cells(403, admin=200, org_admin=404),
            "organization_id",
        ),
    ]


AUDIT = [
    *_audit_route("/api/audit/logs", "audit.logs.list"),
    *_audit_route("/api/audit/summary", "audit.summary"),
    *_audit_route("/api/audit/suspicious", "audit.suspicious"),
]


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
"""Staff of a provider organization may keep a practitioner profile (NPI); patients never."""

CREDENTIALS = [
    _list_route("/api/credentials/categories", "credentials.categories.list", SIGNED_IN),
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
        "/api/credentials/documents/{document_id}/replacement",
        "credentials.documents.replace",
        reviewer=403,
        owner=201,
        own_reviewer=None,
    ),
    _list_route("/api/credentials/mine", "credentials.mine", SIGNED_IN),
    _list_route(
        "/api/credentials/review-queue", "credentials.review_queue", (Actor.CREDENTIALING_REVIEWER,)
    ),
    _list_route("/api/credentials/expiring", "credentials.expiring", SIGNED_IN),
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

NOTIFICATIONS = [
    _list_route("/api/notifications", "notifications.list", SIGNED_IN),
    Case(
        "POST",
        "/api/notifications/read-all",
        "notifications.read_all",
        Scenario.TENANT,
        cells(200),
    ),
    Case(
        "POST",
        "/api/notifications/{notification_id}/read",
        "notifications.read",
        Scenario.OTHERS,
        cells(404),
    ),
    Case(
        "POST",
        "/api/notifications/{notification_id}/read",
        "notifications.read",
        Scenario.OWN,
        cells(200, anonymous=None),
    ),
    Case(
        "POST",
        "/api/notifications/{notification_id}/read",
        "notifications.read",
        Scenario.FOREIGN,
        FOREIGN_404,
    ),
]

IMPORTERS = FRONT_DESK
JOB_READERS = (*STAFF,)


def _ingest_object_route(
    method: str, path: str, action: str, ok: int, allowed: Iterable[Actor]
) -> list[Case]:
    return [
        # The platform administrator's tenant is not the job's: 404 (rule 2).
        Case(method, path, action, Scenario.OTHERS, cells(403, **granted(ok, allowed), admin=404)),
        Case(method, path, action, Scenario.FOREIGN, FOREIGN_404),
    ]


INGEST = [
    Case(
        "POST",
        "/api/ingest/uploads",
        "ingest.upload.create",
        Scenario.TENANT,
        cells(403, **granted(201, IMPORTERS)),
    ),
    # The signed URL is the credential (rule 6): any holder may use it once, signed in or not.
    Case(
        "PUT",
        "/api/ingest/uploads/{upload_id}/content",
        "ingest.upload.content",
        Scenario.TENANT,
        cells(202, anonymous=202),
        "signed URL",
    ),
    *_ingest_object_route(
        "POST",
        "/api/ingest/uploads/{upload_id}/complete",
        "ingest.upload.complete",
        200,
        IMPORTERS,
    ),
    _list_route("/api/ingest/jobs", "ingest.job.list", JOB_READERS),
    *_ingest_object_route("GET", "/api/ingest/jobs/{job_id}", "ingest.job.read", 200, JOB_READERS),
    # The world's jobs have finished: cancelling one is a conflict for those who may cancel.
    *_ingest_object_route(
        "POST", "/api/ingest/jobs/{job_id}/cancel", "ingest.job.cancel", 409, IMPORTERS
    ),
    *_ingest_object_route(
        "GET", "/api/ingest/jobs/{job_id}/error-report", "ingest.job.error_report", 200, IMPORTERS
    ),
    _list_route("/api/ingest/settings", "ingest.settings.read", IMPORTERS),
    Case(
        "PUT",
        "/api/ingest/settings",
        "ingest.settings.update",
        Scenario.TENANT,
        cells(403, org_admin=200),
    ),
]

SECTIONS: dict[str, list[Case]] = {
    "Patients": PATIENTS,
    "Medical records": RECORDS,
    "Appointments": APPOINTMENTS,
    "Users": USERS,
    "Audit views": AUDIT,
    "Credentials": CREDENTIALS,
    "Notifications": NOTIFICATIONS,
    "CSV ingest": INGEST,
}

CASES: tuple[Case, ...] = tuple(case for section in SECTIONS.values() for case in section)

COVERED_PREFIXES = (
    "/api/patients",
    "/api/records",
    "/api/appointments",
    "/api/users",
    "/api/audit",
    "/api/credentials",
    "/api/notifications",
    "/api/ingest",
)
"""Every API route under these prefixes must appear in CASES (checked by the test)."""


def routes() -> dict[tuple[str, str], str]:
    """(method, path) -> audit action name, once per route."""
    return {(case.method, case.path): case.action for case in CASES}
