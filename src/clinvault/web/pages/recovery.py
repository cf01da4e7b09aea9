"""Forgot password, the reset link's page, and choosing one's own password."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request, Response

from clinvault import context
from clinvault.deps import ContainerDep, SessionDep
from clinvault.errors import AppError, PasswordTooWeak, RequestInvalid
from clinvault.errors.accounts import (
    PasswordResetExpired,
    PasswordResetNotFound,
    PasswordResetThrottled,
    PasswordResetUsed,
)
from clinvault.identity.accounts.first_password import PasswordChoiceService
from clinvault.identity.accounts.schemas import RESET_ACCEPTED
from clinvault.identity.accounts.service import PasswordResetService
from clinvault.web.pages.common import VerifiedForm, discard_changes, portal_router, see_other
from clinvault.web.render import render
from clinvault.web.session import PortalPrincipal, safe_next

router = portal_router()

_MAX_EMAIL = 320
_MAX_SECRET = 1024
_LINK_PROBLEMS = (PasswordResetNotFound, PasswordResetUsed, PasswordResetExpired)


def redact_reset_token() -> None:
    """Keep reset tokens out of the audit log: record the route's template instead."""
    ctx = context.current()
    if ctx is not None:
        ctx.path = "/reset-password/{token}"


def _min_length(request: Request) -> int:
    return int(request.app.state.container.settings.security.password_min_length)


def _forgot_page(
    request: Request,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **values: Any,
) -> Response:
    data: dict[str, Any] = {"email": "", "error": None, "email_error": None, "sent": None}
    data.update(values)
    return render(request, "password_forgot.html", data, status_code=status_code, headers=headers)


@router.get("/forgot-password", name="portal.password.forgot")
async def forgot_page(request: Request, sent: str = "") -> Response:
    return _forgot_page(request, sent=RESET_ACCEPTED if sent == "1" else None)


@router.post("/forgot-password", name="portal.password.forgot.submit")
async def forgot_submit(
    request: Request, form: VerifiedForm, session: SessionDep, container: ContainerDep
) -> Response:
    email = form.get("email").strip()[:_MAX_EMAIL]
    if not email or "@" not in email:
        return _forgot_page(
            request,
            400,
            email=email,
            email_error="Enter the email address you sign in with, like name@example.org.",
        )
    try:
        await PasswordResetService(session, container).request(email)
    except PasswordResetThrottled as error:
        await discard_changes(session)
        retry = error.headers.get("Retry-After")
        return _forgot_page(
            request,
            429,
            email=email,
            error=error.detail,
            headers={"Retry-After": retry} if retry else None,
        )
    return see_other("/forgot-password?sent=1")


def _reset_page(request: Request, token: str, status_code: int = 200, **values: Any) -> Response:
    data: dict[str, Any] = {
        "token": token,
        "email": "",
        "link_error": None,
        "password_error": None,
        "confirm_error": None,
        "password_min_length": _min_length(request),
    }
    data.update(values)
    return render(request, "password_reset.html", data, status_code=status_code)


@router.get(
    "/reset-password/{token}",
    name="portal.password.reset",
    dependencies=[Depends(redact_reset_token)],
)
async def reset_page(
    request: Request, token: str, session: SessionDep, container: ContainerDep
) -> Response:
    try:
        _, user, _ = await PasswordResetService(session, container).open(token)
    except _LINK_PROBLEMS as error:
        return _reset_page(request, token, error.status, link_error=error.detail)
    return _reset_page(request, token, email=user.email)


@router.post(
    "/reset-password/{token}",
    name="portal.password.reset.submit",
    dependencies=[Depends(redact_reset_token)],
)
async def reset_submit(
    request: Request,
    token: str,
    form: VerifiedForm,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    service = PasswordResetService(session, container)
    password = form.get("password")
    confirm = form.get("password_confirm")
    try:
        _, user, _ = await service.open(token)
        problems = _password_problems(password, confirm)
        if problems:
            return _reset_page(request, token, 400, email=user.email, **problems)
        await service.confirm(token, password)
    except _LINK_PROBLEMS as error:
        await discard_changes(session)
        return _reset_page(request, token, error.status, link_error=error.detail)
    except (PasswordTooWeak, RequestInvalid) as error:
        await discard_changes(session)
        return _reset_page(request, token, 400, email=user.email, password_error=error.detail)
    except AppError as error:
        await discard_changes(session)
        return _reset_page(request, token, error.status, link_error=error.detail)
    return see_other("/login?notice=password-reset")


def _password_problems(password: str, confirm: str) -> dict[str, str]:
    if not password:
        return {"password_error": "Choose a new password."}
    if len(password) > _MAX_SECRET:
        return {"password_error": f"Use at most {_MAX_SECRET} characters."}
    if password != confirm:
        return {"confirm_error": "The two passwords do not match: type the same password twice."}
    return {}


def _choose_page(
    request: Request, principal: Any, status_code: int = 200, **values: Any
) -> Response:
    data: dict[str, Any] = {
        "due": principal.password_change_due,
        "next": "/",
        "current_error": None,
        "password_error": None,
        "confirm_error": None,
        "password_min_length": _min_length(request),
    }
    data.update(values)
    return render(
        request, "password_choose.html", data, principal=principal, status_code=status_code
    )


@router.get("/account/password", name="portal.password.choose")
async def choose_page(request: Request, principal: PortalPrincipal, next: str = "") -> Response:
    return _choose_page(request, principal, next=safe_next(next))


@router.post("/account/password", name="portal.password.choose.submit")
async def choose_submit(
    request: Request,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    next_path = safe_next(form.get("next"))
    current = form.get("current_password")[:_MAX_SECRET]
    password = form.get("password")
    problems = _password_problems(password, form.get("password_confirm"))
    if not current:
        problems["current_error"] = "Enter your current password."
    if problems:
        return _choose_page(request, principal, 400, next=next_path, **problems)
    try:
        await PasswordChoiceService(session, container).choose(principal, current, password)
    except (PasswordTooWeak, RequestInvalid) as error:
        await discard_changes(session)
        field = _field_of(error)
        message = _message_of(error)
        key = "current_error" if field == "current_password" else "password_error"
        return _choose_page(request, principal, 400, next=next_path, **{key: message})
    return see_other(next_path)


def _field_of(error: AppError) -> str:
    errors = getattr(error, "errors", None) or []
    return str(errors[0].get("field", "")) if errors else ""


def _message_of(error: AppError) -> str:
    errors = getattr(error, "errors", None) or []
    if errors and errors[0].get("message"):
        text = str(errors[0]["message"])
        return text[0].upper() + text[1:] + "."
    return error.detail
