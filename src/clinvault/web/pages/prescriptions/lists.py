"""Lists of prescriptions: the organization's (clinicians) and "My prescriptions" (patients)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request, Response

from clinvault import context
from clinvault.deps import ContainerDep, SessionDep
from clinvault.errors import PermissionDenied
from clinvault.identity.principal import Role
from clinvault.prescriptions.schemas import PrescriptionRead
from clinvault.prescriptions.service import PrescriptionService
from clinvault.prescriptions.states import RxStatus
from clinvault.records.patients.service import PatientService
from clinvault.web.pages.common import portal_router
from clinvault.web.pages.prescriptions.detail import STATUS_LABELS, labels
from clinvault.web.render import render
from clinvault.web.session import PortalPrincipal

router = portal_router()

PAGE_SIZE = 50
MAX_OFFSET = 100_000
STATUSES = tuple(status.value for status in RxStatus)


@router.get("/prescriptions", name="portal.rx.list")
async def prescriptions(
    request: Request,
    principal: PortalPrincipal,
    session: SessionDep,
    container: ContainerDep,
    status: str = "",
    patient: str = "",
    page: int = 1,
) -> Response:
    if not principal.has(Role.ORG_ADMIN, Role.DOCTOR, Role.NURSE):
        raise PermissionDenied("Only clinicians list the organization's prescriptions.")
    chosen = status if status in STATUSES else ""
    patient_id: uuid.UUID | None = None
    try:
        patient_id = uuid.UUID(patient) if patient else None
    except ValueError:
        patient_id = None
    page = min(max(page, 1), MAX_OFFSET // PAGE_SIZE)
    service = PrescriptionService(session, container)
    result = await service.list(
        principal,
        patient_id=patient_id,
        status=chosen or None,
        limit=PAGE_SIZE + 1,
        offset=(page - 1) * PAGE_SIZE,
    )
    items = result.items[:PAGE_SIZE]
    people = PatientService(session, container)
    names: dict[uuid.UUID, str] = {}
    for item in items:
        if item.patient_id not in names:
            found = await people.lookup(principal, item.patient_id)
            names[item.patient_id] = f"{found.last_name}, {found.first_name}" if found else ""
    context.describe_resource("prescription")
    data: dict[str, Any] = {
        "items": items,
        "names": names,
        "status": chosen,
        "statuses": STATUSES,
        "patient": str(patient_id) if patient_id else "",
        "patient_name": names.get(patient_id, "") if patient_id else "",
        "page": page,
        "has_next": len(result.items) > PAGE_SIZE,
        "params": {"status": chosen, "patient": str(patient_id) if patient_id else ""},
        **labels(),
    }
    return render(request, "rx_list.html", data, principal=principal)


@router.get("/my-prescriptions", name="portal.rx.mine")
async def my_prescriptions(
    request: Request, principal: PortalPrincipal, session: SessionDep, container: ContainerDep
) -> Response:
    if not principal.has(Role.PATIENT):
        raise PermissionDenied("“My prescriptions” lists a patient's own prescriptions.")
    service = PrescriptionService(session, container)
    summaries = await service.list(principal, limit=PAGE_SIZE)
    items: list[PrescriptionRead] = []
    for summary in summaries.items:
        if summary.status == "draft":
            continue
        items.append(await service.get(principal, summary.id))
    context.describe_resource("prescription")
    return render(
        request,
        "rx_mine.html",
        {"items": items, "state_of": STATUS_LABELS, **labels()},
        principal=principal,
    )
