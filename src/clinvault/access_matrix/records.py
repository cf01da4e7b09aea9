"""The expected status of every route of patients, medical records and appointments."""

from __future__ import annotations

from clinvault.access_matrix.model import (
    CLINICAL,
    FRONT_DESK,
    SIGNED_IN,
    STAFF,
    Actor,
    Case,
    Scenario,
    cells,
    granted,
)
from clinvault.access_matrix.shapes import chart_route, create_route, foreign_reference, list_route

# The patient's own chart: its download (a FHIR Bundle) and who opened it.
SELF_SERVICE = [
    *chart_route(
        "GET", "/api/patients/{patient_id}/export", "records.patient.export", 200, (Actor.PATIENT,)
    ),
    *chart_route(
        "GET",
        "/api/patients/{patient_id}/access-report",
        "records.patient.access_report",
        200,
        (Actor.PATIENT,),
    ),
]

PATIENTS = [
    Case(
        "POST",
        "/api/patients/",
        "records.patient.create",
        Scenario.TENANT,
        cells(403, **granted(201, STAFF)),
    ),
    Case(
        "POST",
        "/api/patients/duplicates",
        "records.patient.duplicates",
        Scenario.TENANT,
        cells(403, **granted(200, STAFF)),
    ),
    list_route("/api/patients/", "records.patient.list", (*STAFF, Actor.PATIENT)),
    list_route("/api/patients/search", "records.patient.search", (*STAFF, Actor.PATIENT)),
    *chart_route(
        "GET", "/api/patients/{patient_id}", "records.patient.read", 200, (*STAFF, Actor.PATIENT)
    ),
    *chart_route(
        "PUT", "/api/patients/{patient_id}", "records.patient.update", 200, STAFF, "clinical fields"
    ),
    *chart_route(
        "PUT",
        "/api/patients/{patient_id}",
        "records.patient.update",
        200,
        FRONT_DESK,
        "demographic fields",
    ),
    *chart_route(
        "POST",
        "/api/patients/{patient_id}/link-user",
        "records.patient.link_user",
        200,
        FRONT_DESK,
    ),
    *SELF_SERVICE,
]

RECORDS = [
    *create_route("/api/records/", "records.record.create", CLINICAL),
    list_route("/api/records/", "records.record.list", (*CLINICAL, Actor.PATIENT)),
    foreign_reference(
        "GET", "/api/records/", "records.record.list", 404, (*CLINICAL, Actor.PATIENT), "patient_id"
    ),
    list_route("/api/records/types", "records.record.types", SIGNED_IN),
    *chart_route(
        "GET", "/api/records/{record_id}", "records.record.read", 200, (*CLINICAL, Actor.PATIENT)
    ),
    *chart_route(
        "GET",
        "/api/records/patient/{patient_id}",
        "records.record.list_for_patient",
        200,
        (*CLINICAL, Actor.PATIENT),
    ),
    *chart_route(
        "GET",
        "/api/patients/{patient_id}/records",
        "records.record.list_of_patient",
        200,
        (*CLINICAL, Actor.PATIENT),
    ),
    *chart_route(
        "POST", "/api/records/{record_id}/amendments", "records.record.amend", 201, CLINICAL
    ),
    *chart_route(
        "POST", "/api/records/{record_id}/attachments", "records.attachment.create", 201, CLINICAL
    ),
    *chart_route(
        "GET",
        "/api/records/{record_id}/attachments/{attachment_id}/content",
        "records.attachment.read",
        200,
        (*CLINICAL, Actor.PATIENT),
    ),
]

APPOINTMENTS = [
    *create_route("/api/appointments/", "records.appointment.book", FRONT_DESK),
    list_route("/api/appointments/", "records.appointment.list", (*STAFF, Actor.PATIENT)),
    *chart_route(
        "GET",
        "/api/appointments/{appointment_id}",
        "records.appointment.read",
        200,
        (*STAFF, Actor.PATIENT),
    ),
    *chart_route(
        "PUT",
        "/api/appointments/{appointment_id}",
        "records.appointment.reschedule",
        200,
        FRONT_DESK,
    ),
    *chart_route(
        "POST",
        "/api/appointments/{appointment_id}/cancel",
        "records.appointment.cancel",
        200,
        FRONT_DESK,
    ),
    # Patient self-service: a request for one's own chart, cancelling one's own appointment.
    Case(
        "POST",
        "/api/appointments/requests",
        "records.appointment.request",
        Scenario.TENANT,
        cells(403, patient=201),
    ),
    foreign_reference(
        "POST",
        "/api/appointments/requests",
        "records.appointment.request",
        404,
        (Actor.PATIENT,),
        "patient_id",
    ),
    *chart_route(
        "POST",
        "/api/appointments/{appointment_id}/patient-cancel",
        "records.appointment.patient_cancel",
        200,
        (Actor.PATIENT,),
    ),
    *chart_route(
        "POST",
        "/api/appointments/{appointment_id}/confirm",
        "records.appointment.confirm",
        200,
        FRONT_DESK,
        "a pending request",
    ),
    *chart_route(
        "POST",
        "/api/appointments/{appointment_id}/decline",
        "records.appointment.decline",
        200,
        FRONT_DESK,
        "a pending request",
    ),
]
