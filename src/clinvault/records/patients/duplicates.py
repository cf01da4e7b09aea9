"""Likely duplicates of a patient about to be registered.

A likely duplicate has the same first and last name and date of birth, or
the same phone number. The lookup goes through the blind-index tokens only
(`patient_search_tokens`): the table is never decrypted to compare, only the
few rows the tokens point at are, to drop those whose names merely share a
prefix.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.bootstrap import Container
from clinvault.identity.principal import Principal
from clinvault.records import policies
from clinvault.records.patients.repository import PatientRepository
from clinvault.records.patients.schemas import DuplicateQuery, LikelyDuplicate, LikelyDuplicates
from clinvault.records.patients.search import DATE, MAX_INDEXED_WORDS, MIN_QUERY, NAME, PHONE
from clinvault.records.patients.search import name_words as words_of
from clinvault.records.patients.writer import patient_read
from clinvault.records.phones import PhoneInvalid, to_e164
from clinvault.records.policies import require

MAX_SHOWN = 5
SAME_NAME_AND_BIRTH = "same name and date of birth"
SAME_PHONE = "same phone number"


class DuplicateCheck:
    def __init__(self, session: AsyncSession, container: Container) -> None:
        self.repository = PatientRepository(session)
        self.indexer = container.blind_index
        self.country_code = container.settings.records.default_phone_country_code

    async def likely_duplicates(
        self,
        principal: Principal,
        *,
        first_name: str,
        last_name: str,
        date_of_birth: date | None,
        phone: str | None,
    ) -> list[LikelyDuplicate]:
        """Up to MAX_SHOWN patients of the organization this registration may repeat."""
        context.describe_resource("patient")
        require(
            policies.can_create_patient(principal),
            "Only administrators, clerks, doctors and nurses register patients.",
        )
        wanted = words_of(first_name, last_name)
        indexed = sorted((w for w in wanted if len(w) >= MIN_QUERY), key=len, reverse=True)
        name_digests = [
            self.indexer.prefix_index(word, kind=NAME) for word in indexed[:MAX_INDEXED_WORDS]
        ]
        birth = date_of_birth.isoformat() if date_of_birth else None
        e164 = self._e164(phone)
        rows = await self.repository.likely_duplicates(
            tenant=principal.organization_id,
            name_digests=name_digests,
            date_digest=self.indexer.index(birth, kind=DATE) if birth else None,
            phone_digest=self.indexer.index(e164, kind=PHONE) if e164 else None,
            limit=MAX_SHOWN * 4,
        )
        found: list[LikelyDuplicate] = []
        for row in rows:
            reasons: list[str] = []
            same_name = sorted(words_of(row.first_name, row.last_name)) == sorted(wanted)
            if birth and row.date_of_birth == birth and same_name:
                reasons.append(SAME_NAME_AND_BIRTH)
            if e164 and row.phone == e164:
                reasons.append(SAME_PHONE)
            if reasons:
                found.append(LikelyDuplicate(patient=patient_read(row), reasons=reasons))
        return found[:MAX_SHOWN]

    async def check(self, principal: Principal, query: DuplicateQuery) -> LikelyDuplicates:
        """The API's form of `likely_duplicates`."""
        found = await self.likely_duplicates(
            principal,
            first_name=query.first_name,
            last_name=query.last_name,
            date_of_birth=query.date_of_birth,
            phone=query.phone,
        )
        return LikelyDuplicates(items=found)

    def _e164(self, phone: str | None) -> str | None:
        if not phone:
            return None
        try:
            return to_e164(phone, self.country_code)
        except PhoneInvalid:
            return None
