"""Inviting members (organization administrators) and accepting an invitation link."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request, Response
from pydantic import ValidationError

from clinvault import context
from clinvault.deps import ContainerDep, SessionDep
from clinvault.errors import (
    EmailUnavailable,
    PasswordTooWeak,
    PermissionDenied,
    RequestInvalid,
    RoleNotAllowed,
)
from clinvault.identity import policies
from clinvault.identity.invitation_service import InvitationService
from clinvault.identity.principal import ORGANIZATION_ROLES, Principal, Role
from clinvault.identity.schemas import InvitationCreate, InvitationPreview
from clinvault.web.pages.common import (
    VerifiedForm,
    discard_changes,
    portal_router,
    see_other,
)
from clinvault.web.render import render
from clinvault.web.session import PortalPrincipal

_MAX_NAME = 200
_MAX_SECRET = 1024

router = portal_router()

INVITE_NOTICES = {"sent": "Invitation sent. The person will receive an email with their link."}


def redact_token_path() -> None:
    """Keep invitation tokens out of the audit log: record the route's template instead."""
    ctx = context.current()
    if ctx is not None:
        ctx.path = "/invite/{token}"


def _role_choices() -> list[Role]:
    return [role for role in Role if role in ORGANIZATION_ROLES]


def _require_inviter(principal: Principal) -> None:
    if not policies.can_manage_invitations(principal, principal.organization_id):
        raise PermissionDenied("Only an organization administrator can invite members.")


def _invite_page(
    request: Request, principal: Principal, status_code: int = 200, **values: Any
) -> Response:
    settings = request.app.state.container.settings
    data: dict[str, Any] = {
        "email": "",
        "selected_roles": [],
        "error": None,
        "notice": None,
        "email_error": None,
        "roles_error": None,
        "role_choices": _role_choices(),
        "invitation_hours": settings.security.invitation_hours,
    }
    data.update(values)
    return render(request, "invite.html", data, principal=principal, status_code=status_code)


def _field_errors(error: ValidationError) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else ""
        if field == "email":
            found.setdefault("email_error", "Enter a valid email address, like name@example.org.")
        elif field == "roles":
            found.setdefault("roles_error", "Choose at least one role from the list.")
    return found


@router.get("/users/invite", name="portal.invite")
async def invite_page(request: Request, principal: PortalPrincipal, notice: str = "") -> Response:
    _require_inviter(principal)
    return _invite_page(request, principal, notice=INVITE_NOTICES.get(notice))


@router.post("/users/invite", name="portal.invite.submit")
async def invite_submit(
    request: Request,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    _require_inviter(principal)
    email = form.get("email").strip()[:320]
    roles = form.get_all("roles")[: len(Role)]
    try:
        data = InvitationCreate.model_validate({"email": email, "roles": roles})
    except ValidationError as error:
        return _invite_page(
            request, principal, 400, email=email, selected_roles=roles, **_field_errors(error)
        )
    try:
        await InvitationService(session, container).create(principal, data)
    except EmailUnavailable as error:
        await discard_changes(session)
        return _invite_page(
            request, principal, 409, email=email, selected_roles=roles, email_error=error.detail
        )
    except RoleNotAllowed as error:
        await discard_changes(session)
        return _invite_page(
            request, principal, 403, email=email, selected_roles=roles, roles_error=error.detail
        )
    return see_other("/users/invite?notice=sent")


def _accept_page(
    request: Request,
    token: str,
    invitation: InvitationPreview,
    status_code: int = 200,
    **values: Any,
) -> Response:
    settings = request.app.state.container.settings
    data: dict[str, Any] = {
        "token": token,
        "invitation": invitation,
        "display_name": "",
        "error": None,
        "name_error": None,
        "password_error": None,
        "confirm_error": None,
        "password_min_length": settings.security.password_min_length,
    }
    data.update(values)
    return render(request, "invitation.html", data, status_code=status_code)


@router.get("/invite/{token}", name="portal.invitation", dependencies=[Depends(redact_token_path)])
async def invitation_page(
    request: Request, token: str, session: SessionDep, container: ContainerDep
) -> Response:
    preview = await InvitationService(session, container).lookup(token)
    return _accept_page(request, token, preview)


@router.post(
    "/invite/{token}",
    name="portal.invitation.accept",
    dependencies=[Depends(redact_token_path)],
)
async def invitation_accept(
    request: Request,
    token: str,
    form: VerifiedForm,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    service = InvitationService(session, container)
    preview = await service.lookup(token)
    name = form.get("display_name").strip()
    password = form.get("password")
    confirm = form.get("password_confirm")
    problems: dict[str, str] = {}
    if not name or len(name) > _MAX_NAME:
        problems["name_error"] = f"Enter your name (at most {_MAX_NAME} characters)."
    if not password:
        problems["password_error"] = "Choose a password."
    elif len(password) > _MAX_SECRET:
        problems["password_error"] = f"Use at most {_MAX_SECRET} characters."
    elif password != confirm:
        problems["confirm_error"] = "The two passwords do not match: type the same password twice."
    if problems:
        return _accept_page(request, token, preview, 400, display_name=name, **problems)
    try:
        await service.accept(token, password, name)
    except PasswordTooWeak as error:
        await discard_changes(session)
        return _accept_page(
            request, token, preview, 400, display_name=name, password_error=error.detail
        )
    except (EmailUnavailable, RequestInvalid) as error:
        await discard_changes(session)
        return _accept_page(
            request, token, preview, error.status, display_name=name, error=error.detail
        )
    return see_other("/login?notice=account-created")
