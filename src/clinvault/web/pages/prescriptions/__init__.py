"""Prescriptions in the portal: prescribing, the detail page, lists, the pharmacy's pages."""

from __future__ import annotations

from fastapi import APIRouter

from clinvault.web.pages.prescriptions import detail, lists, pharmacy, prescribe

routers: tuple[APIRouter, ...] = (prescribe.router, lists.router, detail.router, pharmacy.router)
