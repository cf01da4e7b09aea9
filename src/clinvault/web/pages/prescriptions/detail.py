"""One prescription: its facts, fills and history, the PDF, and the moves the reader may make.

The same page serves the prescriber, the other clinicians, the patient and the
routed pharmacy: the service's read model says what each may do now
(`actions`), and only those forms are shown. A refused move shows the page
again with the message next to the form and the typed values kept.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from fastapi import Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.bootstrap import Container
from clinvault.deps import ContainerDep, SessionDep
from clinvault.errors import AppError
from clinvault.identity.principal import Principal, Role
from clinvault.prescriptions.schemas import DECLINE_REASONS
from clinvault.prescriptions.service import PrescriptionService
from clinvault.web.pages.common import VerifiedForm, discard_changes, portal_router, see_other
from clinvault.web.pages.prescriptions import forms
from clinvault.web.pages.prescriptions.prescribe import SCHEDULE_LABELS
from clinvault.web.render import render
from clinvault.web.session import PortalPrincipal

router = portal_router()

NOTICES = {
    "drafted": "Draft saved. Check it, then sign it to send it to the pharmacy.",
    "sign": "Signed: the prescription is active and the pharmacy can fill it.",
    "hold": "The prescription is on hold.",
    "resume": "The prescription is active again.",
    "cancel": "Cancellation recorded.",
    "entered-in-error": "Marked as entered in error.",
    "claim": "Accepted: this fill is now held by your pharmacy.",
    "dispense": "Dispense recorded.",
    "decline": "Declined: the fill was released and the prescriber told.",
    "acknowledge-cancel": "Cancellation acknowledged.",
    "deny-cancel": "Cancellation denied; the prescriber was told why.",
    "pharmacy": "Pharmacy changed: the new pharmacy can fill the prescription.",
}
PRESCRIBER_MOVES = ("hold", "resume", "cancel", "entered-in-error")
MOVE_LABELS = {
    "hold": "Put on hold",
    "resume": "Resume",
    "cancel": "Cancel prescription",
    "entered-in-error": "Mark as entered in error",
}
DECLINE_LABELS = {
    "out_of_stock": "Out of stock",
    "not_covered": "Not covered by the patient's plan",
    "clinical_concern": "Clinical concern",
    "cannot_verify": "Cannot verify the prescription",
    "patient_request": "Patient's request",
    "other": "Other",
}
STATUS_LABELS = {
    "draft": "Draft",
    "active": "Active",
    "on-hold": "On hold",
    "completed": "Completed",
    "cancelled": "Cancelled",
    "stopped": "Stopped",
    "entered-in-error": "Entered in error",
    "expired": "Expired",
    "none": "No fill yet",
    "ready": "Ready for the pharmacy",
    "accepted": "Accepted by the pharmacy",
    "in-progress": "Partly dispensed",
    "cancel-requested": "Cancel requested",
    "closed": "Closed",
}
ACTION_LABELS = {
    "sign": "Signed",
    "hold": "Put on hold",
    "resume": "Resumed",
    "cancel": "Cancelled",
    "entered-in-error": "Entered in error",
    "change-pharmacy": "Pharmacy changed",
    "claim": "Accepted by pharmacy",
    "decline": "Declined by pharmacy",
    "dispense": "Dispensed",
    "acknowledge-cancel": "Cancellation acknowledged",
    "deny-cancel": "Cancellation denied",
    "expire": "Expired",
    "create": "Draft written",
}
ACTION_FIELDS = ("second_factor", "reason", "quantity", "reason_code", "note", "decision")


def quantity_text(value: float) -> str:
    return f"{Decimal(str(value)).normalize():f}"


def labels() -> dict[str, Any]:
    return {
        "status_labels": STATUS_LABELS,
        "action_labels": ACTION_LABELS,
        "schedule_labels": SCHEDULE_LABELS,
        "decline_labels": DECLINE_LABELS,
        "qty": quantity_text,
    }


async def detail_page(
    request: Request,
    session: AsyncSession,
    container: Container,
    principal: Principal,
    prescription_id: uuid.UUID,
    *,
    notice: str | None = None,
    failed: str | None = None,
    error: str | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    rx = await PrescriptionService(session, container).get(principal, prescription_id)
    current = next((f for f in reversed(rx.fills) if f.status not in ("closed",)), None)
    data: dict[str, Any] = {
        "rx": rx,
        "notice": notice,
        "failed": failed,
        "error": error,
        "values": {**dict.fromkeys(ACTION_FIELDS, ""), **(values or {})},
        "current_fill": current or (rx.fills[-1] if rx.fills else None),
        "moves": [m for m in PRESCRIBER_MOVES if m in rx.actions],
        "move_labels": MOVE_LABELS,
        "decline_reasons": DECLINE_REASONS,
        "is_pharmacy": rx.patient_id is None,
        "is_patient": principal.has(Role.PATIENT)
        and not principal.has(Role.DOCTOR, Role.NURSE, Role.ORG_ADMIN, Role.CLERK),
        "controlled": rx.schedule != "none",
        **labels(),
    }
    return render(request, "rx_detail.html", data, principal=principal, status_code=status_code)


@router.get("/prescriptions/{prescription_id:uuid}", name="portal.rx.read")
async def read_prescription(
    request: Request,
    prescription_id: uuid.UUID,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
    notice: str = "",
) -> Response:
    return await detail_page(
        request, session, container, principal, prescription_id, notice=NOTICES.get(notice)
    )


@router.get("/prescriptions/{prescription_id:uuid}/pdf", name="portal.rx.pdf")
async def prescription_pdf(
    prescription_id: uuid.UUID,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    content = await PrescriptionService(session, container).pdf(principal, prescription_id)
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": 'inline; filename="prescription.pdf"'},
    )


async def refused(
    request: Request,
    session: AsyncSession,
    container: Container,
    principal: Principal,
    prescription_id: uuid.UUID,
    problem: AppError,
    failed: str,
    values: dict[str, str],
) -> Response:
    """The page again, the refusal next to the form `failed`; a 404 stays a 404."""
    if problem.status == 404:
        raise problem
    await discard_changes(session)
    return await detail_page(
        request, session, container, principal, prescription_id,
        failed=failed, error=problem.detail, values=values, status_code=problem.status,
    )  # fmt: skip


def done(prescription_id: uuid.UUID, notice: str) -> Response:
    return see_other(f"/prescriptions/{prescription_id}?notice={notice}")


@router.post("/prescriptions/{prescription_id:uuid}/sign", name="portal.rx.sign")
async def sign(
    request: Request,
    prescription_id: uuid.UUID,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    code = "".join(form.get("second_factor").split())[:12]
    shown = {"second_factor": ""}
    if code and not (code.isdigit() and len(code) == 6):
        return await detail_page(
            request, session, container, principal, prescription_id, failed="sign",
            error="Enter the 6-digit code from your authenticator app.", values=shown,
            status_code=400,
        )  # fmt: skip
    try:
        await PrescriptionService(session, container).sign(principal, prescription_id, code or None)
    except AppError as problem:
        return await refused(
            request, session, container, principal, prescription_id, problem, "sign", shown
        )
    return done(prescription_id, "sign")


@router.post("/prescriptions/{prescription_id:uuid}/move", name="portal.rx.move")
async def move(
    request: Request,
    prescription_id: uuid.UUID,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    action = form.get("move")
    reason = forms.clip(form.get("reason"))[:500]
    values = {"reason": reason}
    if action not in PRESCRIBER_MOVES:
        return await detail_page(
            request, session, container, principal, prescription_id, failed="move",
            error="Choose one of the buttons of this form.", values=values, status_code=400,
        )  # fmt: skip
    service = PrescriptionService(session, container)
    method = {
        "hold": service.hold,
        "resume": service.resume,
        "cancel": service.cancel,
        "entered-in-error": service.entered_in_error,
    }[action]
    try:
        await method(principal, prescription_id, reason or None)
    except AppError as problem:
        return await refused(
            request, session, container, principal, prescription_id, problem, "move", values
        )
    return done(prescription_id, action)
