"""All SQL of patients and their search tokens; every query is tenant-scoped."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    and_,
    delete,
    exists,
    false,
    func,
    insert,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased

from clinvault.models.identity import User
from clinvault.models.records import Patient, PatientSearchToken
from clinvault.records.pagination import PageRequest
from clinvault.records.patients.filters import BIRTH_YEAR, BLOOD_TYPE, GENDER, PatientFilters
from clinvault.records.patients.search import (
    DATE,
    MAX_INDEXED_WORDS,
    NAME,
    PHONE,
    SearchPlan,
)

# Past this many matches a search reports "more than" instead of counting on.
SEARCH_COUNT_CAP = 1000
# Built once: aliasing a table per query costs more than running the query.
_TOKEN_RANGES = tuple(
    aliased(PatientSearchToken, name=f"token_{n}") for n in range(MAX_INDEXED_WORDS)
)


class PatientRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, patient: Patient) -> None:
        self.session.add(patient)
        await self.session.flush()

    async def replace_tokens(
        self, patient: Patient, tokens: Sequence[tuple[str, str]], *, fresh: bool = False
    ) -> None:
        if not fresh:
            await self.session.execute(
                delete(PatientSearchToken).where(
                    PatientSearchToken.organization_id == patient.organization_id,
                    PatientSearchToken.patient_id == patient.id,
                )
            )
        if tokens:
            await self.session.execute(
                insert(PatientSearchToken),
                [
                    {
                        "organization_id": patient.organization_id,
                        "patient_id": patient.id,
                        "kind": kind,
                        "token_hash": digest,
                    }
                    for kind, digest in tokens
                ],
            )

    async def by_mrn(self, digest: str, *, tenant: uuid.UUID) -> Patient | None:
        found: Patient | None = await self.session.scalar(
            select(Patient).where(Patient.organization_id == tenant, Patient.mrn_index == digest)
        )
        return found

    async def get(self, patient_id: uuid.UUID, *, tenant: uuid.UUID) -> Patient | None:
        result: Patient | None = await self.session.scalar(
            select(Patient).where(Patient.id == patient_id, Patient.organization_id == tenant)
        )
        return result

    async def for_user(self, user_id: uuid.UUID, *, tenant: uuid.UUID) -> Patient | None:
        result: Patient | None = await self.session.scalar(
            select(Patient).where(Patient.user_id == user_id, Patient.organization_id == tenant)
        )
        return result

    async def mrn_taken(
        self, mrn_index: str, *, tenant: uuid.UUID, other_than: uuid.UUID | None = None
    ) -> bool:
        condition = exists().where(
            Patient.organization_id == tenant, Patient.mrn_index == mrn_index
        )
        if other_than is not None:
            condition = condition.where(Patient.id != other_than)
        return bool(await self.session.scalar(select(condition)))

    async def page(
        self, *, tenant: uuid.UUID, request: PageRequest, only_user: uuid.UUID | None = None
    ) -> tuple[Sequence[Patient], int]:
        query = select(Patient).where(Patient.organization_id == tenant)
        if only_user is not None:
            query = query.where(Patient.user_id == only_user)
        return await self._paged(query, request)

    async def search(
        self,
        plan: SearchPlan | None,
        *,
        tenant: uuid.UUID,
        request: PageRequest,
        filters: PatientFilters | None = None,
        only_user: uuid.UUID | None = None,
    ) -> tuple[Sequence[Patient], int, bool]:
        """A page of the matching patients in id order, their count and whether it is exact.

        Without a plan (no query text) every patient of the organization matches, before
        the filters. Counting stops after SEARCH_COUNT_CAP + 1 matches (then the count is
        a lower bound), and is skipped when the page itself shows where the results end.
        """
        matched = (
            self._matched_ids(plan, tenant)
            if plan is not None
            else select(Patient.id.label("patient_id")).where(Patient.organization_id == tenant)
        )
        if matched is None:
            return [], 0, True
        if only_user is not None:
            confined = select(Patient).where(
                Patient.organization_id == tenant,
                Patient.user_id == only_user,
                Patient.id.in_(matched),
                *self._filtered(tenant, filters, Patient.id),
            )
            rows, total = await self._paged(confined, request)
            return rows, total, True
        ids = matched.subquery()
        kept = self._filtered(tenant, filters, ids.c.patient_id)
        page = (
            select(ids.c.patient_id)
            .where(*kept)
            .order_by(ids.c.patient_id)
            .limit(request.limit)
            .offset(request.offset)
        )
        rows = (
            await self.session.scalars(
                select(Patient)
                .where(Patient.organization_id == tenant, Patient.id.in_(page))
                .order_by(Patient.id)
            )
        ).all()
        if len(rows) < request.limit and (rows or request.offset == 0):
            return rows, request.offset + len(rows), True
        capped = select(ids.c.patient_id).where(*kept).limit(SEARCH_COUNT_CAP + 1).subquery()
        total = int(await self.session.scalar(select(func.count()).select_from(capped)) or 0)
        return rows, total, total <= SEARCH_COUNT_CAP

    def _filtered(
        self,
        tenant: uuid.UUID,
        filters: PatientFilters | None,
        patient: ColumnElement[uuid.UUID] | InstrumentedAttribute[uuid.UUID],
    ) -> list[ColumnElement[bool]]:
        """One condition per filter: the patient holds one of the filter's digests."""
        if filters is None:
            return []
        wanted: list[ColumnElement[bool]] = []
        for kind, digest in ((GENDER, filters.gender), (BLOOD_TYPE, filters.blood_type)):
            if digest is not None:
                wanted.append(and_(PatientSearchToken.kind == kind, _digest_in([digest])))
        if filters.ages is not None:
            options = [
                and_(PatientSearchToken.kind == kind, _digest_in(digests))
                for kind, digests in ((BIRTH_YEAR, filters.ages.years), (DATE, filters.ages.dates))
                if digests
            ]
            wanted.append(or_(*options) if options else false())
        return [
            patient.in_(
                select(PatientSearchToken.patient_id).where(
                    PatientSearchToken.organization_id == tenant, condition
                )
            )
            for condition in wanted
        ]

    async def without_filter_tokens(
        self, *, after: uuid.UUID | None, limit: int
    ) -> Sequence[uuid.UUID]:
        """Ids of the patients written before the filter tokens existed (every patient has
        a gender), in id order after `after`. Across organizations: a start-up step's query."""
        has_gender = exists().where(
            PatientSearchToken.patient_id == Patient.id,
            PatientSearchToken.organization_id == Patient.organization_id,
            PatientSearchToken.kind == GENDER,
        )
        query = select(Patient.id).where(~has_gender)
        if after is not None:
            query = query.where(Patient.id > after)
        return (await self.session.scalars(query.order_by(Patient.id).limit(limit))).all()

    async def patients_global(self, ids: Sequence[uuid.UUID]) -> Sequence[Patient]:
        """The patients of `ids` (decrypted as they load), across organizations, in id order."""
        query = select(Patient).where(Patient.id.in_(ids)).order_by(Patient.id)
        return (await self.session.scalars(query)).all()

    def _matched_ids(
        self, plan: SearchPlan, tenant: uuid.UUID
    ) -> Select[uuid.UUID] | CompoundSelect[uuid.UUID] | None:
        """The ids (column `patient_id`) of the patients matching the plan, each once.

        A plan has at most one kind of token (date, phone or name prefixes) and maybe
        an MRN. The MRN's patient is added only when the tokens miss it, so the union
        needs no de-duplication and a count over it can stop early.
        """
        kind, digests = next(
            (
                (kind, digests)
                for kind, digests in (
                    (DATE, [plan.date] if plan.date else []),
                    (PHONE, [plan.phone] if plan.phone else []),
                    (NAME, plan.name_prefixes),
                )
                if digests
            ),
            (NAME, []),
        )
        tokens = self._token_match(tenant, kind, digests) if digests else None
        if plan.mrn is None:
            return tokens
        by_mrn = select(Patient.id.label("patient_id")).where(
            Patient.organization_id == tenant, Patient.mrn_index == plan.mrn
        )
        if tokens is None:
            return by_mrn
        missed = ~self._token_match(tenant, kind, digests, patient=Patient.id).exists()
        return union_all(tokens, by_mrn.where(missed))

    def _token_match(
        self,
        tenant: uuid.UUID,
        kind: str,
        digests: Sequence[str],
        *,
        patient: ColumnElement[uuid.UUID] | InstrumentedAttribute[uuid.UUID] | None = None,
    ) -> Select[uuid.UUID]:
        """Patients holding every one of the digests of this kind (of `patient` only, if given).

        Each digest is a range of the lookup index ordered by patient id, read
        without touching the table; several are joined on patient id (a merge join).
        """
        wanted = sorted(set(digests))
        ranges = _TOKEN_RANGES[: len(wanted)]
        first = ranges[0]
        query = select(first.patient_id.label("patient_id"))
        for token, digest in zip(ranges, wanted, strict=True):
            condition = and_(
                token.organization_id == tenant, token.kind == kind, token.token_hash == digest
            )
            if token is first:
                query = query.where(condition)
            else:
                query = query.join(token, and_(token.patient_id == first.patient_id, condition))
        if patient is not None:
            query = query.where(first.patient_id == patient)
        return query

    async def _paged(
        self, query: Select[Patient], request: PageRequest
    ) -> tuple[Sequence[Patient], int]:
        total = await self.session.scalar(select(func.count()).select_from(query.subquery()))
        rows = (
            await self.session.scalars(
                query.order_by(Patient.id).limit(request.limit).offset(request.offset)
            )
        ).all()
        return rows, int(total or 0)

    async def likely_duplicates(
        self,
        *,
        tenant: uuid.UUID,
        name_digests: Sequence[str],
        date_digest: str | None,
        phone_digest: str | None,
        limit: int,
    ) -> Sequence[Patient]:
        """Patients holding every name digest and the date digest, or the phone digest.

        Read through the lookup index only: the caller checks the decrypted names of
        the few rows found.
        """
        wanted: list[ColumnElement[bool]] = []
        if name_digests and date_digest:
            wanted.append(
                and_(
                    Patient.id.in_(self._token_match(tenant, NAME, name_digests)),
                    Patient.id.in_(self._token_match(tenant, DATE, [date_digest])),
                )
            )
        if phone_digest:
            wanted.append(Patient.id.in_(self._token_match(tenant, PHONE, [phone_digest])))
        if not wanted:
            return []
        query = (
            select(Patient)
            .where(Patient.organization_id == tenant, or_(*wanted))
            .order_by(Patient.id)
            .limit(limit)
        )
        return (await self.session.scalars(query)).all()

    async def member_by_email(self, email: str, *, tenant: uuid.UUID) -> User | None:
        """A user of the organization by (normalized) email address."""
        result: User | None = await self.session.scalar(
            select(User).where(User.email == email, User.organization_id == tenant)
        )
        return result

    async def member(self, user_id: uuid.UUID, *, tenant: uuid.UUID) -> User | None:
        """A user of the organization (to link to a patient row)."""
        result: User | None = await self.session.scalar(
            select(User).where(User.id == user_id, User.organization_id == tenant)
        )
        return result


def _digest_in(digests: Sequence[str]) -> ColumnElement[bool]:
    if len(digests) == 1:
        return PatientSearchToken.token_hash == digests[0]
    return PatientSearchToken.token_hash.in_(digests)
