"""Patient self-service in the portal: My chart, requests and cancellations, downloads,
the access report; and the front desk's page of appointment requests."""

from __future__ import annotations

from fastapi import APIRouter

from clinvault.web.pages.self_service import appointment_requests, my_appointments, my_chart

routers: tuple[APIRouter, ...] = (
    my_chart.router,
    my_appointments.router,
    appointment_requests.router,
)
