"""HTTP routes: /api/pharmacies, /api/prescriptions/, /api/pharmacy/queue."""

from __future__ import annotations

import re
import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, UploadFile, status
from fastapi.responses import StreamingResponse

from clinvault.api_contract import problem_responses
from clinvault.attached_file_routes import download, spooled_upload, upload_limit
from clinvault.config import Settings
from clinvault.deps import ContainerDep, PrincipalDep, SessionDep
from clinvault.inputs import Limit, Offset, SingleLine
from clinvault.prescriptions.documents import PrescriptionDocumentService
from clinvault.prescriptions.pharmacy import PharmacyService
from clinvault.prescriptions.policy_service import PolicyService
from clinvault.prescriptions.schemas import (
    CancelDecision,
    ClaimRequest,
    DeclineRequest,
    DispenseRequest,
    PharmacyChange,
    PharmacyRead,
    PolicyRead,
    PolicyUpdate,
    PrescriptionCreate,
    PrescriptionList,
    PrescriptionRead,
    QueueBucket,
    QueueRead,
    ReasonRequest,
    SignRequest,
    VerificationRead,
)
from clinvault.prescriptions.service import PrescriptionService
from clinvault.prescriptions.states import RxStatus

directory = APIRouter(prefix="/api/pharmacies", tags=["prescriptions"])
router = APIRouter(prefix="/api/prescriptions", tags=["prescriptions"])
queue_router = APIRouter(
    prefix="/api/pharmacy", tags=["prescriptions"], responses=problem_responses(404)
)
Id = Annotated[uuid.UUID, Path(description="The prescription id")]

DOCUMENT_UPLOAD_PATH = re.compile(r"/api/prescriptions/[^/]+/document/?")


def body_limit_overrides(settings: Settings) -> list[tuple[re.Pattern[str], int]]:
    """Only the scan upload admits a body larger than the JSON limit (RequestPipeline)."""
    return upload_limit(DOCUMENT_UPLOAD_PATH, settings)


@directory.get("", name="prescriptions.pharmacies.search")
async def search_pharmacies(
    q: Annotated[Annotated[str, SingleLine(100)], Query(description="Name or city")],
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
) -> list[PharmacyRead]:
    """Pharmacies by name or city (staff and patients of a provider organization)."""
    return await PrescriptionService(session, container).search_pharmacies(principal, q)


@router.post("/", name="prescriptions.create", status_code=status.HTTP_201_CREATED)
async def create_prescription(
    body: PrescriptionCreate, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> PrescriptionRead:
    """A draft (doctors; nurses name the doctor who signs)."""
    return await PrescriptionService(session, container).create(principal, body)


@router.get("/", name="prescriptions.list")
async def list_prescriptions(
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
    patient_id: uuid.UUID | None = None,
    status_filter: Annotated[RxStatus | None, Query(alias="status")] = None,
    limit: Annotated[Limit, Query(description="Page size")] = 50,
    offset: Annotated[Offset, Query(description="Items to skip")] = 0,
) -> PrescriptionList:
    """The organization's prescriptions (clinicians) or a patient's own."""
    return await PrescriptionService(session, container).list(
        principal,
        patient_id=patient_id,
        status=None if status_filter is None else status_filter.value,
        limit=limit,
        offset=offset,
    )


@router.get("/policy", name="prescriptions.policy.read")
async def read_policy(principal: PrincipalDep, session: SessionDep) -> PolicyRead:
    """The organization's prescribing defaults (clinicians of a provider organization)."""
    return await PolicyService(session).read(principal)


@router.put("/policy", name="prescriptions.policy.update")
async def change_policy(
    body: PolicyUpdate, principal: PrincipalDep, session: SessionDep
) -> PolicyRead:
    """Organization administrators: default validity and the schedule V limits."""
    return await PolicyService(session).update(principal, body)


@router.get("/verify/{token}", name="prescriptions.verify")
async def verify_prescription(
    token: Annotated[str, Path(max_length=200)],
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
) -> VerificationRead:
    """Pharmacists: is a paper copy genuine, its state and what remains; nothing else."""
    return await PharmacyService(session, container).verify(principal, token)


@router.get("/{prescription_id}", name="prescriptions.read")
async def read_prescription(
    prescription_id: Id, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> PrescriptionRead:
    return await PrescriptionService(session, container).get(principal, prescription_id)


@router.get("/{prescription_id}/pdf", name="prescriptions.pdf", response_class=Response)
async def prescription_pdf(
    prescription_id: Id, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> Response:
    """The printable copy with a QR code of its verification link."""
    content = await PrescriptionService(session, container).pdf(principal, prescription_id)
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": 'inline; filename="prescription.pdf"'},
    )


@router.post(
    "/{prescription_id}/document",
    name="prescriptions.document.create",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(409, 413),
)
async def attach_document(
    prescription_id: Id,
    file: UploadFile,
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
) -> PrescriptionRead:
    """Attach the scanned prescription to a draft (multipart part `file`: one PDF, JPEG or
    PNG, checked by its content and stored encrypted). The draft's author or its named
    prescriber, before signing, once."""
    async with spooled_upload(file, container.settings, "rx-document-") as path:
        return await PrescriptionDocumentService(session, container).attach(
            principal, prescription_id, path, file.filename or ""
        )


@router.get(
    "/{prescription_id}/document",
    name="prescriptions.document.read",
    response_class=StreamingResponse,
)
async def document_content(
    prescription_id: Id, principal: PrincipalDep, session: SessionDep, container: ContainerDep
) -> StreamingResponse:
    """The decrypted scan, streamed: the prescriber, the patient, the routed pharmacy."""
    content = await PrescriptionDocumentService(session, container).content(
        principal, prescription_id
    )
    return download(content)


@router.post("/{prescription_id}/sign", name="prescriptions.sign")
async def sign_prescription(
    prescription_id: Id,
    body: SignRequest,
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
) -> PrescriptionRead:
    """The named prescriber activates a draft (schedule II-V: DEA registration + TOTP)."""
    service = PrescriptionService(session, container)
    return await service.sign(principal, prescription_id, body.second_factor)


def _prescriber_route(action: str, method_name: str) -> None:
    async def endpoint(
        prescription_id: Id,
        body: ReasonRequest,
        principal: PrincipalDep,
        session: SessionDep,
        container: ContainerDep,
    ) -> PrescriptionRead:
        service = PrescriptionService(session, container)
        move = getattr(service, method_name)
        result: PrescriptionRead = await move(principal, prescription_id, body.reason)
        return result

    endpoint.__doc__ = f"The prescriber: {action.replace('-', ' ')}."
    router.add_api_route(
        f"/{{prescription_id}}/{action}",
        endpoint,
        methods=["POST"],
        name=f"prescriptions.{method_name}",
        response_model=PrescriptionRead,
    )


for _action, _method in (
    ("hold", "hold"),
    ("resume", "resume"),
    ("cancel", "cancel"),
    ("entered-in-error", "entered_in_error"),
):
    _prescriber_route(_action, _method)


@router.post("/{prescription_id}/pharmacy", name="prescriptions.change_pharmacy")
async def change_pharmacy(
    prescription_id: Id,
    body: PharmacyChange,
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
) -> PrescriptionRead:
    """The patient or the prescriber routes the unclaimed fill to another pharmacy."""
    service = PrescriptionService(session, container)
    return await service.change_pharmacy(principal, prescription_id, body.pharmacy_id)


@router.post("/{prescription_id}/claim", name="prescriptions.claim")
async def claim_prescription(
    prescription_id: Id,
    body: ClaimRequest,
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
) -> PrescriptionRead:
    """The routed pharmacy takes the ready fill; a stale version is a 409."""
    service = PharmacyService(session, container)
    return await service.claim(principal, prescription_id, body.version)


@router.post("/{prescription_id}/dispense", name="prescriptions.dispense")
async def dispense_prescription(
    prescription_id: Id,
    body: DispenseRequest,
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
) -> PrescriptionRead:
    """Hand over part or all of the held fill."""
    service = PharmacyService(session, container)
    return await service.dispense(principal, prescription_id, body.quantity, body.version)


@router.post("/{prescription_id}/decline", name="prescriptions.decline")
async def decline_prescription(
    prescription_id: Id,
    body: DeclineRequest,
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
) -> PrescriptionRead:
    """Release the held fill with a coded reason; the prescriber is told."""
    service = PharmacyService(session, container)
    return await service.decline(principal, prescription_id, body.reason_code, body.note)


@router.post("/{prescription_id}/cancel-decision", name="prescriptions.cancel_decision")
async def decide_cancel(
    prescription_id: Id,
    body: CancelDecision,
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
) -> PrescriptionRead:
    """The holding pharmacy acknowledges or denies (with a reason) a cancel request."""
    service = PharmacyService(session, container)
    return await service.decide_cancel(principal, prescription_id, body.decision, body.reason)


@queue_router.get("/queue", name="prescriptions.queue")
async def pharmacy_queue(
    principal: PrincipalDep,
    session: SessionDep,
    container: ContainerDep,
    bucket: QueueBucket = "new",
) -> QueueRead:
    """The pharmacy's work queue: new, in_progress, rejected, completed."""
    return await PharmacyService(session, container).queue(principal, bucket)


routers = (directory, router, queue_router)
