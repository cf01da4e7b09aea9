"""Patient use cases: register, list, read, update, link an account, search.

Other parts of the records platform find patients through `visible_patient`
and `own_patient_id`, so that the patient self-access rule lives in one place.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.bootstrap import Container
from clinvault.errors import (
    PatientFieldsForbidden,
    PatientMrnTaken,
    PatientNotFound,
    PatientUserAlreadyLinked,
    PatientUserInvalid,
    SearchFilterInvalid,
    SearchQueryInvalid,
)
from clinvault.identity.principal import Principal, Role
from clinvault.models.records import Patient
from clinvault.records import policies
from clinvault.records.pagination import Page, PageRequest
from clinvault.records.patients.filters import FilterUnusable, plan_filters
from clinvault.records.patients.repository import PatientRepository
from clinvault.records.patients.schemas import (
    PatientCreate,
    PatientPage,
    PatientRead,
    PatientSearchPage,
    PatientUpdate,
)
from clinvault.records.patients.search import (
    QueryUnusable,
    SearchPlan,
    matches_long_words,
    mrn_digest,
    plan_search,
)
from clinvault.records.patients.writer import (
    MRN_TAKEN,
    SEARCHED_FIELDS,
    create_patient,
    normalized_phone,
    patient_read,
    storable,
    tokens_of,
)
from clinvault.records.policies import require
from clinvault.timeutil import utcnow

PATIENT_NOT_FOUND = "No patient with this id in your organization: check the id."


class PatientService:
    def __init__(self, session: AsyncSession, container: Container) -> None:
        self.session = session
        self.container = container
        self.repository = PatientRepository(session)
        self.indexer = container.blind_index
        self.country_code = container.settings.records.default_phone_country_code

    async def create(self, principal: Principal, data: PatientCreate) -> PatientRead:
        context.describe_resource("patient")
        require(
            policies.can_create_patient(principal),
            "Only administrators, clerks, doctors and nurses register patients.",
        )
        patient = await create_patient(
            self.session,
            self.indexer,
            organization_id=principal.organization_id,
            data=data,
            default_country_code=self.country_code,
            created_by=principal.user_id,
        )
        context.describe_resource("patient", patient.id)
        return patient_read(patient)

    async def list_patients(self, principal: Principal, request: PageRequest) -> PatientPage:
        context.describe_resource("patient")
        require(policies.can_list_patients(principal), "You cannot list patients.")
        rows, total = await self.repository.page(
            tenant=principal.organization_id, request=request, only_user=self._confined(principal)
        )
        return _page(rows, total, request)

    async def search(
        self,
        principal: Principal,
        query: str | None,
        request: PageRequest,
        *,
        gender: str | None = None,
        blood_type: str | None = None,
        age_min: int | None = None,
        age_max: int | None = None,
    ) -> PatientSearchPage:
        """Patients matching the query text (if any) and every filter given."""
        context.describe_resource("patient")
        require(policies.can_list_patients(principal), "You cannot search patients.")
        try:
            filters = plan_filters(
                self.indexer,
                gender=gender,
                blood_type=blood_type,
                age_min=age_min,
                age_max=age_max,
                today=utcnow().date(),
            )
        except FilterUnusable as exc:
            raise SearchFilterInvalid(
                str(exc),
                errors=[{"field": exc.field, "in": "query", "message": str(exc), "type": "filter"}],
            ) from None
        if query is not None and not query.strip() and not filters.empty:
            query = None  # an empty search box beside the filters (a design form sends q=)
        if query is None and filters.empty:
            message = (
                "Send q (a name prefix, an MRN, a date of birth or a phone number) or at least "
                "one filter: gender, blood_type, age_min, age_max."
            )
            raise SearchQueryInvalid(
                message, errors=[{"field": "q", "in": "query", "message": message}]
            )
        plan = None if query is None else self._plan(query)
        rows, total, exact = await self.repository.search(
            plan,
            tenant=principal.organization_id,
            request=request,
            filters=filters,
            only_user=self._confined(principal),
        )
        kept = [
            row
            for row in rows
            if plan is None or matches_long_words(plan, row.first_name, row.last_name)
        ]
        return PatientSearchPage(
            items=[patient_read(row) for row in kept],
            total=total - (len(rows) - len(kept)),
            total_exact=exact,
            page=request.page,
            page_size=request.page_size,
        )

    def _plan(self, query: str) -> SearchPlan:
        try:
            return plan_search(self.indexer, query, default_country_code=self.country_code)
        except QueryUnusable as exc:
            raise SearchQueryInvalid(
                str(exc),
                errors=[{"field": "q", "in": "query", "message": str(exc), "type": "search"}],
            ) from None

    async def get(self, principal: Principal, patient_id: uuid.UUID) -> PatientRead:
        patient = await self.visible_patient(principal, patient_id)
        require(policies.can_read_patient(principal, patient.user_id), "You cannot view patients.")
        return patient_read(patient)

    async def update(
        self, principal: Principal, patient_id: uuid.UUID, data: PatientUpdate
    ) -> PatientRead:
        patient = await self.visible_patient(principal, patient_id)
        require(policies.can_update_patient(principal), "Your role cannot change patient details.")
        changes = self._changes(patient, data)
        forbidden = policies.forbidden_patient_fields(principal, set(changes))
        if forbidden:
            context.note_detail("fields_forbidden")
            raise PatientFieldsForbidden(
                "Your role may change only the clinical fields (allergies, emergency_contact, "
                f"blood_type); ask a clerk to change: {', '.join(forbidden)}. Nothing was changed.",
                errors=[
                    {"field": name, "in": "body", "message": "not allowed for your role"}
                    for name in forbidden
                ],
            )
        await self._apply(principal, patient, changes)
        return patient_read(patient)

    async def link_user(
        self, principal: Principal, patient_id: uuid.UUID, user_id: uuid.UUID | None
    ) -> PatientRead:
        patient = await self.visible_patient(principal, patient_id)
        require(
            policies.can_link_patient_user(principal),
            "Only administrators and clerks link patient accounts.",
        )
        if user_id != patient.user_id:
            await self._apply(principal, patient, {"user_id": user_id})
        return patient_read(patient)

    async def link_user_by_email(
        self, principal: Principal, patient_id: uuid.UUID, email: str
    ) -> PatientRead:
        """Link the patient account with this email (the portal's form: staff know the
        address the patient was invited with, not the account id)."""
        await self.visible_patient(principal, patient_id)
        require(
            policies.can_link_patient_user(principal),
            "Only administrators and clerks link patient accounts.",
        )
        user = await self.repository.member_by_email(
            email.strip().lower(), tenant=principal.organization_id
        )
        if user is None or Role.PATIENT.value not in user.roles:
            message = "No patient account has this email in your organization."
            raise PatientUserInvalid(
                message + " Invite the patient first, then link the account.",
                errors=[{"field": "email", "in": "body", "message": message}],
            )
        return await self.link_user(principal, patient_id, user.id)

    async def visible_patient(self, principal: Principal, patient_id: uuid.UUID) -> Patient:
        """The patient of the principal's organization it may know of, else 404."""
        context.describe_resource("patient", patient_id)
        patient = await self.lookup(principal, patient_id)
        if patient is None:
            raise PatientNotFound(PATIENT_NOT_FOUND)
        return patient

    async def lookup(self, principal: Principal, patient_id: uuid.UUID) -> Patient | None:
        """Like `visible_patient`, answering None instead of raising."""
        patient = await self.repository.get(patient_id, tenant=principal.organization_id)
        if patient is None or not policies.sees_patient(principal, patient.user_id):
            return None
        return patient

    async def lookup_mrn(self, principal: Principal, mrn: str) -> Patient | None:
        """The visible patient with this medical record number, or None."""
        patient = await self.repository.by_mrn(
            mrn_digest(self.indexer, mrn), tenant=principal.organization_id
        )
        if patient is None or not policies.sees_patient(principal, patient.user_id):
            return None
        return patient

    async def own_patient_id(self, principal: Principal) -> uuid.UUID | None:
        """For a patient account: the id of its own patient row (None when unlinked)."""
        patient = await self.repository.for_user(
            principal.user_id, tenant=principal.organization_id
        )
        return None if patient is None else patient.id

    def _confined(self, principal: Principal) -> uuid.UUID | None:
        return principal.user_id if policies.acts_as_patient(principal) else None

    def _changes(self, patient: Patient, data: PatientUpdate) -> dict[str, Any]:
        """The sent fields whose value differs from the stored one."""
        changes: dict[str, Any] = {}
        for name in data.model_fields_set:
            value = getattr(data, name)
            if name == "phone":
                value = normalized_phone(value, self.country_code)
            value = storable(name, value)
            if value != getattr(patient, name):
                changes[name] = value
        return changes

    async def _apply(self, principal: Principal, patient: Patient, changes: dict[str, Any]) -> None:
        if not changes:
            return
        if "mrn" in changes:
            digest = mrn_digest(self.indexer, changes["mrn"])
            if await self.repository.mrn_taken(
                digest, tenant=patient.organization_id, other_than=patient.id
            ):
                raise PatientMrnTaken(MRN_TAKEN)
            patient.mrn_index = digest
        if changes.get("user_id") is not None:
            await self._check_linkable(principal, patient, changes["user_id"])
        for name, value in changes.items():
            setattr(patient, name, value)
        await self.session.flush()
        if SEARCHED_FIELDS & set(changes):
            await self.repository.replace_tokens(patient, tokens_of(self.indexer, patient))

    async def _check_linkable(
        self, principal: Principal, patient: Patient, user_id: uuid.UUID
    ) -> None:
        user = await self.repository.member(user_id, tenant=principal.organization_id)
        if user is None or Role.PATIENT.value not in user.roles:
            raise PatientUserInvalid(
                "user_id must be a patient account of your organization: invite the patient "
                "first, then link the account.",
                errors=[{"field": "user_id", "in": "body", "message": "not a patient account"}],
            )
        linked = await self.repository.for_user(user_id, tenant=principal.organization_id)
        if linked is not None and linked.id != patient.id:
            raise PatientUserAlreadyLinked(
                f"This account is already linked to patient {linked.id}: unlink it there first."
            )


def _page(rows: Any, total: int, request: PageRequest) -> PatientPage:
    return Page[PatientRead](
        items=[patient_read(row) for row in rows],
        total=total,
        page=request.page,
        page_size=request.page_size,
    )
