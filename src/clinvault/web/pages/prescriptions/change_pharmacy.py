"""Changing the pharmacy of a prescription (the patient or the prescriber): search, choose."""

from __future__ import annotations

import uuid

from fastapi import Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.bootstrap import Container
from clinvault.deps import ContainerDep, SessionDep
from clinvault.errors import AppError
from clinvault.identity.principal import Principal
from clinvault.prescriptions.schemas import PrescriptionRead
from clinvault.prescriptions.service import PrescriptionService
from clinvault.web.pages.common import VerifiedForm, discard_changes, portal_router
from clinvault.web.pages.prescriptions import forms
from clinvault.web.pages.prescriptions.detail import done, labels
from clinvault.web.pages.prescriptions.prescribe import pharmacy_results
from clinvault.web.render import render
from clinvault.web.session import PortalPrincipal

router = portal_router()


async def _pharmacy_page(
    request: Request,
    session: AsyncSession,
    container: Container,
    principal: Principal,
    rx: PrescriptionRead,
    q: str,
    *,
    chosen: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    service = PrescriptionService(session, container)
    pharmacies, search_error = await pharmacy_results(service, principal, q)
    data = {
        "rx": rx,
        "q": q,
        "pharmacies": [p for p in pharmacies if p.id != rx.pharmacy.id],
        "search_error": search_error,
        "chosen": chosen,
        "error": error,
        **labels(),
    }
    return render(
        request, "rx_pharmacy_change.html", data, principal=principal, status_code=status_code
    )


@router.get("/prescriptions/{prescription_id:uuid}/pharmacy", name="portal.rx.pharmacy")
async def pharmacy_form(
    request: Request,
    prescription_id: uuid.UUID,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
    q: str = "",
) -> Response:
    rx = await PrescriptionService(session, container).get(principal, prescription_id)
    return await _pharmacy_page(request, session, container, principal, rx, q.strip()[:100])


@router.post("/prescriptions/{prescription_id:uuid}/pharmacy", name="portal.rx.pharmacy.change")
async def change_pharmacy(
    request: Request,
    prescription_id: uuid.UUID,
    form: VerifiedForm,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
) -> Response:
    service = PrescriptionService(session, container)
    q = forms.clip(form.get("q"))[:100]
    chosen = form.get("pharmacy_id").strip()
    try:
        pharmacy_id = uuid.UUID(chosen)
    except ValueError:
        rx = await service.get(principal, prescription_id)
        return await _pharmacy_page(
            request, session, container, principal, rx, q, chosen=chosen,
            error="Choose the new pharmacy from the list.", status_code=400,
        )  # fmt: skip
    try:
        await service.change_pharmacy(principal, prescription_id, pharmacy_id)
    except AppError as problem:
        if problem.status == 404:
            raise
        await discard_changes(session)
        rx = await service.get(principal, prescription_id)
        return await _pharmacy_page(
            request, session, container, principal, rx, q, chosen=chosen,
            error=problem.detail, status_code=problem.status,
        )  # fmt: skip
    return done(prescription_id, "pharmacy")
