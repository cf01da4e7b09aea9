"""Small helpers shared by the portal pages."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.errors import AppError
from clinvault.web.csrf import PortalForm, verified_form
from clinvault.web.routing import PortalRoute

VerifiedForm = Annotated[PortalForm, Depends(verified_form)]


def portal_router() -> APIRouter:
    """A router whose routes are portal pages (HTML, cookies, portal error pages)."""
    return APIRouter(route_class=PortalRoute, include_in_schema=False)


def see_other(location: str) -> RedirectResponse:
    """Post/redirect/get: a 303, recorded as such in the request's audit event."""
    context.note_status(303)
    return RedirectResponse(location, status_code=303)


async def discard_changes(session: AsyncSession) -> None:
    """Roll back what a failed use case wrote before the page shows the error.

    The request's audit event is still written, in the transaction that follows.
    """
    await session.rollback()


def retry_after_text(error: AppError) -> str:
    """'in about N minutes' from a Retry-After header, or '' when there is none."""
    raw = error.headers.get("Retry-After", "")
    if not raw.isdigit():
        return ""
    seconds = int(raw)
    if seconds < 60:
        return f"in {seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"in about {minutes} minute{'s' if minutes != 1 else ''}"


def lockout_message(error: AppError) -> str:
    when = retry_after_text(error)
    wait = f"Try again {when}." if when else "Try again later."
    return f"Too many failed sign-in attempts: this account is temporarily locked. {wait}"
