"""Prescriptions in the portal: prescribing, the detail page, lists, the pharmacy's pages."""

from __future__ import annotations

from fastapi import APIRouter

from clinvault.web.pages.prescriptions import (
    change_pharmacy,
    detail,
    lists,
    pharmacy,
    pharmacy_actions,
    prescribe,
)

routers: tuple[APIRouter, ...] = (
    prescribe.router,
    lists.router,
    detail.router,
    pharmacy_actions.router,
    change_pharmacy.router,
    pharmacy.router,
)
