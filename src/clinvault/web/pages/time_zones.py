"""Choosing time zones on the Profile page: one's own, and (administrators) the organization's.

The forms post here; a known IANA name is stored and the browser goes back to
the profile, an unknown one comes back as an error on its own field.
"""

from __future__ import annotations

from fastapi import Request, Response

from clinvault.deps import ContainerDep, SessionDep
from clinvault.errors import RequestInvalid
from clinvault.identity.principal import Principal
from clinvault.identity.service import AuthService
from clinvault.identity.time_zone_service import ZONE_HINT, TimeZoneService
from clinvault.web.pages.common import VerifiedForm, discard_changes, portal_router, see_other
from clinvault.web.render import render
from clinvault.web.session import PortalPrincipal

router = portal_router()

MAX_NAME = 64


async def _refused(
    request: Request,
    session: SessionDep,
    container: ContainerDep,
    principal: Principal,
    field: str,
    value: str,
) -> Response:
    """The profile again, with the unknown name kept in its field and the error beside it."""
    await discard_changes(session)
    user = await AuthService(session, container).profile(principal)
    values = {
        "user": user,
        "error": None,
        "notice": None,
        "zone_errors": {field: f"“{value}” is not a time zone we know. {ZONE_HINT}"},
        "zone_values": {field: value},
    }
    return render(request, "profile.html", values, principal=principal, status_code=400)


@router.post("/profile/time-zone", name="portal.profile.time_zone")
async def set_own(
    request: Request,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    value = form.get("time_zone").strip()[:MAX_NAME]
    try:
        await TimeZoneService(session, container).set_own(principal, value)
    except RequestInvalid:
        return await _refused(request, session, container, principal, "time_zone", value)
    return see_other("/profile?notice=time-zone#time-zone")


@router.post("/organization/time-zone", name="portal.organization.time_zone")
async def set_organization(
    request: Request,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    value = form.get("organization_time_zone").strip()[:MAX_NAME]
    try:
        await TimeZoneService(session, container).set_organization(principal, value)
    except RequestInvalid:
        return await _refused(
            request, session, container, principal, "organization_time_zone", value
        )
    return see_other("/profile?notice=organization-time-zone#time-zone")
