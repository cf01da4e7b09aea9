"""The pharmacist's pages: the work queue and verifying a paper copy.

`/pharmacy/verify/{token}` is the link printed under the QR code of every
prescription (`prescriptions.views.VERIFY_PATH`); `/pharmacy/verify` takes a
typed link or code and leads there.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import Request, Response

from clinvault import context
from clinvault.deps import ContainerDep, SessionDep
from clinvault.errors import PermissionDenied
from clinvault.errors.prescriptions import (
    VerificationTokenExpired,
    VerificationTokenInvalid,
    VerificationTokenSuperseded,
)
from clinvault.identity.principal import Principal, Role
from clinvault.prescriptions.pharmacy import PharmacyService
from clinvault.prescriptions.schemas import QueueBucket
from clinvault.prescriptions.views import VERIFY_PATH
from clinvault.web.pages.common import portal_router, see_other
from clinvault.web.pages.prescriptions.detail import labels
from clinvault.web.render import render
from clinvault.web.session import PortalPrincipal

router = portal_router()

BUCKETS: tuple[tuple[QueueBucket, str], ...] = (
    ("new", "New"),
    ("in_progress", "In progress"),
    ("rejected", "Rejected"),
    ("completed", "Completed"),
)
TOKEN = re.compile(r"^[A-Za-z0-9._~-]{1,200}$")
TYPED_LIMIT = 600
TOKEN_HELP = (
    f"Paste the link printed under the QR code, or type the code that follows {VERIFY_PATH} in it."
)


@router.get("/pharmacy/queue", name="portal.pharmacy.queue")
async def queue(
    request: Request,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
    bucket: str = "new",
) -> Response:
    chosen: QueueBucket = next((key for key, _ in BUCKETS if key == bucket), "new")
    result = await PharmacyService(session, container).queue(principal, chosen)
    data: dict[str, Any] = {"bucket": chosen, "buckets": BUCKETS, "items": result.items}
    return render(request, "pharmacy_queue.html", {**data, **labels()}, principal=principal)


def require_pharmacist(principal: Principal) -> None:
    if not principal.has(Role.PHARMACIST):
        raise PermissionDenied("Only pharmacists verify prescriptions.")


def token_from(typed: str) -> str | None:
    """The verification code in a pasted link (or the code itself), or None."""
    text = typed.strip()
    if VERIFY_PATH in text:
        text = text.rsplit(VERIFY_PATH, 1)[1]
    text = re.split(r"[?#\s]", text, maxsplit=1)[0].strip("/")
    return text if TOKEN.match(text) else None


def _verify_page(
    request: Request,
    principal: Principal,
    *,
    typed: str = "",
    error: str | None = None,
    result: Any = None,
    refusal: str | None = None,
    status_code: int = 200,
) -> Response:
    data = {
        "typed": typed,
        "error": error,
        "result": result,
        "refusal": refusal,
        "help": TOKEN_HELP,
        **labels(),
    }
    return render(
        request, "pharmacy_verify.html", data, principal=principal, status_code=status_code
    )


@router.get("/pharmacy/verify", name="portal.pharmacy.verify_form")
async def verify_form(request: Request, principal: PortalPrincipal, link: str = "") -> Response:
    require_pharmacist(principal)
    context.describe_resource("prescription")
    typed = link[:TYPED_LIMIT]
    if not typed.strip():
        return _verify_page(request, principal)
    token = token_from(typed)
    if token is None:
        return _verify_page(request, principal, typed=typed, error=TOKEN_HELP, status_code=400)
    return see_other(f"{VERIFY_PATH}{token}")


@router.get("/pharmacy/verify/{token}", name="portal.pharmacy.verify")
async def verify(
    request: Request,
    token: str,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    require_pharmacist(principal)
    if not TOKEN.match(token):
        return _verify_page(
            request, principal, typed=token[:TYPED_LIMIT],
            refusal="This link is not a prescription verification link: do not dispense.",
            status_code=400,
        )  # fmt: skip
    try:
        result = await PharmacyService(session, container).verify(principal, token)
    except (
        VerificationTokenInvalid,
        VerificationTokenExpired,
        VerificationTokenSuperseded,
    ) as problem:
        return _verify_page(
            request, principal, typed=token, refusal=problem.detail, status_code=problem.status
        )
    return _verify_page(request, principal, typed=token, result=result)
