"""The pharmacy's moves on a prescription routed to it: accept, dispense, decline, and the
answer to a cancel request. Each refusal shows the detail page again with the message."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation

from fastapi import Request, Response

from clinvault.deps import ContainerDep, SessionDep
from clinvault.errors import AppError
from clinvault.prescriptions.pharmacy import PharmacyService
from clinvault.prescriptions.schemas import DECLINE_REASONS
from clinvault.web.pages.common import VerifiedForm, portal_router
from clinvault.web.pages.prescriptions import forms
from clinvault.web.pages.prescriptions.detail import detail_page, done, refused
from clinvault.web.session import PortalPrincipal

router = portal_router()


def _amount(typed: str) -> Decimal | None:
    """A positive quantity with at most three decimals, or None."""
    try:
        amount = Decimal(typed)
    except InvalidOperation:
        return None
    exponent = amount.as_tuple().exponent
    if not amount.is_finite() or amount <= 0 or not isinstance(exponent, int) or exponent < -3:
        return None
    return amount


def _version(text: str) -> int | None:
    return int(text) if text.isdigit() and 0 < len(text) < 10 else None


@router.post("/prescriptions/{prescription_id:uuid}/claim", name="portal.rx.claim")
async def claim(
    request: Request,
    prescription_id: uuid.UUID,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    version = _version(form.get("version"))
    try:
        await PharmacyService(session, container).claim(principal, prescription_id, version)
    except AppError as problem:
        return await refused(
            request, session, container, principal, prescription_id, problem, "claim", {}
        )
    return done(prescription_id, "claim")


@router.post("/prescriptions/{prescription_id:uuid}/dispense", name="portal.rx.dispense")
async def dispense(
    request: Request,
    prescription_id: uuid.UUID,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    typed = forms.clip(form.get("quantity"))[:20]
    values = {"quantity": typed}
    amount = _amount(typed)
    if amount is None:
        return await detail_page(
            request, session, container, principal, prescription_id, failed="dispense",
            error="Enter the quantity handed over: a number above zero, like 10 or 2.5.",
            values=values, status_code=400,
        )  # fmt: skip
    version = _version(form.get("version"))
    try:
        await PharmacyService(session, container).dispense(
            principal, prescription_id, amount, version
        )
    except AppError as problem:
        return await refused(
            request, session, container, principal, prescription_id, problem, "dispense", values
        )
    return done(prescription_id, "dispense")


@router.post("/prescriptions/{prescription_id:uuid}/decline", name="portal.rx.decline")
async def decline(
    request: Request,
    prescription_id: uuid.UUID,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    code = form.get("reason_code")
    note = forms.clip(form.get("note"))[:500]
    values = {"reason_code": code, "note": note}
    message = None
    if code not in DECLINE_REASONS:
        message = "Choose the reason for declining from the list."
    elif not note:
        message = "Add a note for the prescriber: what is wrong and what would help."
    if message:
        return await detail_page(
            request, session, container, principal, prescription_id, failed="decline",
            error=message, values=values, status_code=400,
        )  # fmt: skip
    try:
        await PharmacyService(session, container).decline(principal, prescription_id, code, note)
    except AppError as problem:
        return await refused(
            request, session, container, principal, prescription_id, problem, "decline", values
        )
    return done(prescription_id, "decline")


@router.post(
    "/prescriptions/{prescription_id:uuid}/cancel-decision", name="portal.rx.cancel_decision"
)
async def cancel_decision(
    request: Request,
    prescription_id: uuid.UUID,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    decision = form.get("decision")
    reason = forms.clip(form.get("reason"))[:500]
    values = {"reason": reason, "decision": decision}
    message = None
    if decision not in ("acknowledge", "deny"):
        message = "Choose to acknowledge or to deny the cancellation."
    elif decision == "deny" and not reason:
        message = "Say why you deny the cancellation: fill in the reason."
    if message:
        return await detail_page(
            request, session, container, principal, prescription_id, failed="cancel-decision",
            error=message, values=values, status_code=400,
        )  # fmt: skip
    try:
        await PharmacyService(session, container).decide_cancel(
            principal, prescription_id, decision, reason or None
        )
    except AppError as problem:
        return await refused(
            request, session, container, principal, prescription_id, problem,
            "cancel-decision", values,
        )  # fmt: skip
    return done(prescription_id, f"{decision}-cancel")
