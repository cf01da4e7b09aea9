"""Care plans in the portal: lists, writing and editing, the plan page and its forms."""

from __future__ import annotations

from fastapi import APIRouter

from clinvault.web.pages.careplans import actions, detail, lists, write

routers: tuple[APIRouter, ...] = (lists.router, write.router, detail.router, actions.router)
