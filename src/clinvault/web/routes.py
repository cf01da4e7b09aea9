"""The portal: server-rendered pages at `/`, static files at `/static`."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from clinvault.web import errors
from clinvault.web.pages import (
    account,
    admin_users,
    appointment_changes,
    appointments,
    audit_viewer,
    credentials,
    credentials_review,
    invitations,
    invitations_pending,
    notifications,
    patient_edits,
    patients,
    record_versions,
    records_pages,
    recovery,
    signin,
    time_zones,
)
from clinvault.web.pages import careplans as care_plan_pages
from clinvault.web.pages import ingest as ingest_pages
from clinvault.web.pages import prescriptions as prescription_pages
from clinvault.web.pages import self_service as self_service_pages
from clinvault.web.render import STATIC


def mount_portal(app: FastAPI) -> None:
    """Serve the portal pages and their static files; HTML error pages for portal paths."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(signin.router)
    app.include_router(recovery.router)
    app.include_router(account.router)
    app.include_router(time_zones.router)
    app.include_router(invitations.router)
    app.include_router(invitations_pending.router)
    app.include_router(credentials.router)
    app.include_router(credentials_review.router)
    app.include_router(notifications.router)
    for records_page in (patients, records_pages, appointments, admin_users, audit_viewer):
        app.include_router(records_page.router)
    for staff_edit in (patient_edits, record_versions, appointment_changes):
        app.include_router(staff_edit.router)
    for router in (*prescription_pages.routers, *care_plan_pages.routers, ingest_pages.router):
        app.include_router(router)
    for router in self_service_pages.routers:
        app.include_router(router)
    errors.install(app)
