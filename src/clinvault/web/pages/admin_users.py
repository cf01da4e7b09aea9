"""User administration for organization administrators: list, create, roles, deactivate."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.bootstrap import Container
from clinvault.deps import ContainerDep, SessionDep
from clinvault.errors import (
    AppError,
    Conflict,
    EmailUnavailable,
    PasswordTooWeak,
    PermissionDenied,
    RoleNotAllowed,
)
from clinvault.identity import policies
from clinvault.identity.principal import ORGANIZATION_ROLES, Principal, Role
from clinvault.identity.schemas import UserChange, UserCreate, UserRead
from clinvault.identity.users_service import UserService
from clinvault.web.pages.common import VerifiedForm, discard_changes, portal_router, see_other
from clinvault.web.pages.patients import field_errors, form_values, page_count
from clinvault.web.render import render
from clinvault.web.session import PortalPrincipal

router = portal_router()

PAGE_SIZE = 25
MAX_SECRET = 1024
USER_FIELDS = ("email", "display_name")
USER_NOTICES = {
    "created": (
        "Account created. Tell the person their email and password in person or by phone: "
        "they choose their own password when they first sign in."
    ),
    "roles": "Roles saved.",
    "deactivated": "Account deactivated: the person is signed out and cannot sign in.",
    "activated": "Account activated: the person can sign in again.",
}
LABELS = {
    "email": "Enter a valid email address, like name@example.org.",
    "roles": "Choose at least one role from the list.",
    "display_name": "Enter the person's name (at most 200 characters).",
}


def _require_admin(principal: Principal) -> None:
    if not policies.can_list_users(principal, principal.organization_id):
        raise PermissionDenied("Only an organization administrator can manage users.")


def role_choices() -> list[Role]:
    return [role for role in Role if role in ORGANIZATION_ROLES]


def _active_filter(text: str) -> bool | None:
    return {"active": True, "inactive": False}.get(text)


@router.get("/users", name="portal.user.list")
async def users(
    request: Request,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
    q: str = "",
    role: str = "",
    status: str = "",
    page: int = 1,
    notice: str = "",
) -> Response:
    _require_admin(principal)
    query = q.strip()[:320]
    chosen = role if role in {r.value for r in role_choices()} else ""
    page = min(max(page, 1), 100_000)
    result = await UserService(session, container).list_users(
        principal,
        role=Role(chosen) if chosen else None,
        is_active=_active_filter(status),
        email_contains=query or None,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    values = {
        "result": result,
        "page": page,
        "pages": page_count(result.total, PAGE_SIZE),
        "q": query,
        "role": chosen,
        "status": status if status in ("active", "inactive") else "",
        "role_choices": role_choices(),
        "notice": USER_NOTICES.get(notice),
        "params": {"q": query, "role": chosen, "status": status},
    }
    return render(request, "users_list.html", values, principal=principal)


def _new_user_page(
    request: Request, principal: Principal, status_code: int = 200, **values: Any
) -> Response:
    settings = request.app.state.container.settings
    data: dict[str, Any] = {
        "values": dict.fromkeys(USER_FIELDS, ""),
        "selected_roles": [],
        "errors": {},
        "error": None,
        "role_choices": role_choices(),
        "password_min_length": settings.security.password_min_length,
    }
    data.update(values)
    return render(request, "users_new.html", data, principal=principal, status_code=status_code)


@router.get("/users/new", name="portal.user.new")
async def new_user(request: Request, principal: PortalPrincipal) -> Response:
    _require_admin(principal)
    return _new_user_page(request, principal)


@router.post("/users/new", name="portal.user.create")
async def create_user(
    request: Request,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    _require_admin(principal)
    values = form_values(form, USER_FIELDS)
    roles = form.get_all("roles")[: len(Role)]
    password = form.get("password")[:MAX_SECRET]
    page: dict[str, Any] = {"values": values, "selected_roles": roles}
    try:
        data = UserCreate.model_validate({**values, "roles": roles, "password": password})
    except ValidationError as error:
        errors = field_errors(error, {**values, "password": password}, LABELS)
        return _new_user_page(request, principal, 400, errors=errors, **page)
    try:
        user = await UserService(session, container).create(principal, data)
    except (EmailUnavailable, PasswordTooWeak, RoleNotAllowed) as error:
        await discard_changes(session)
        field = {EmailUnavailable: "email", PasswordTooWeak: "password"}.get(type(error), "roles")
        errors = {field: error.detail}
        return _new_user_page(request, principal, error.status, errors=errors, **page)
    return see_other(f"/users/{user.id}?notice=created")


async def _user_page(
    request: Request,
    session: AsyncSession,
    container: Container,
    principal: Principal,
    user: UserRead | None = None,
    *,
    user_id: uuid.UUID,
    status_code: int = 200,
    **values: Any,
) -> Response:
    shown = user or await UserService(session, container).get(principal, user_id)
    data: dict[str, Any] = {
        "user": shown,
        "role_choices": role_choices(),
        "selected_roles": list(shown.roles),
        "error": None,
        "roles_error": None,
        "notice": None,
        "is_self": shown.id == principal.user_id,
    }
    data.update(values)
    return render(request, "users_edit.html", data, principal=principal, status_code=status_code)


@router.get("/users/{user_id:uuid}", name="portal.user.read")
async def user_page(
    request: Request,
    user_id: uuid.UUID,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
    notice: str = "",
) -> Response:
    _require_admin(principal)
    return await _user_page(
        request, session, container, principal, user_id=user_id, notice=USER_NOTICES.get(notice)
    )


@router.post("/users/{user_id:uuid}/roles", name="portal.user.roles")
async def change_roles(
    request: Request,
    user_id: uuid.UUID,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    _require_admin(principal)
    roles = form.get_all("roles")[: len(Role)]
    try:
        change = UserChange.model_validate({"roles": roles})
    except ValidationError:
        return await _user_page(
            request,
            session,
            container,
            principal,
            user_id=user_id,
            status_code=400,
            selected_roles=roles,
            roles_error=LABELS["roles"],
        )
    try:
        await UserService(session, container).update(principal, user_id, change)
    except (RoleNotAllowed, Conflict) as error:
        await discard_changes(session)
        return await _user_page(
            request,
            session,
            container,
            principal,
            user_id=user_id,
            status_code=error.status,
            selected_roles=roles,
            roles_error=error.detail,
        )
    return see_other(f"/users/{user_id}?notice=roles")


async def _set_active(
    request: Request,
    session: AsyncSession,
    container: Container,
    principal: Principal,
    user_id: uuid.UUID,
    *,
    active: bool,
) -> Response:
    _require_admin(principal)
    service = UserService(session, container)
    try:
        if active:
            await service.activate(principal, user_id)
        else:
            await service.deactivate(principal, user_id)
    except Conflict as error:
        await discard_changes(session)
        return await _user_page(
            request, session, container, principal, user_id=user_id, **_refused(error)
        )
    return see_other(f"/users/{user_id}?notice={'activated' if active else 'deactivated'}")


def _refused(error: AppError) -> dict[str, Any]:
    return {"status_code": error.status, "error": error.detail}


@router.post("/users/{user_id:uuid}/deactivate", name="portal.user.deactivate")
async def deactivate(
    request: Request,
    user_id: uuid.UUID,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    return await _set_active(request, session, container, principal, user_id, active=False)


@router.post("/users/{user_id:uuid}/activate", name="portal.user.activate")
async def activate(
    request: Request,
    user_id: uuid.UUID,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    return await _set_active(request, session, container, principal, user_id, active=True)
