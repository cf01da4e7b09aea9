"""All SQL of bulk imports into patients and medical records; every query is tenant-scoped.

Inserts use ON CONFLICT DO NOTHING on the unique keys (the MRN digest of a
patient, the import key and version of a record) and RETURNING, so two
imports of overlapping files running at once never write a row twice: the
loser of a race sees which rows it did not insert and reads them back. Rows
are inserted in the order of their unique key, so that two such imports take
their row locks in the same order and cannot deadlock each other. Rows go a
page at a time and IN lists are padded (clinvault.batching), so that batches of
any size reuse a few prepared statements.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.batching import padded, pages
from clinvault.models.records import MedicalRecord, Patient, PatientSearchToken

_TOKENS: Any = PatientSearchToken.__table__


class ImportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _insert_ignoring(self, table: Any, unique: list[str]) -> Any:
        """INSERT ... ON CONFLICT (unique) DO NOTHING in the session's dialect.

        Bulk inserts go to the tables (Core), not the mapped classes: the ORM's bulk
        path costs more per row than the encryption of the row's fields.
        """
        dialect = self.session.bind.dialect.name if self.session.bind else "sqlite"
        if dialect == "postgresql":
            return postgresql.insert(table).on_conflict_do_nothing(index_elements=unique)
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=unique)

    async def patients_by_mrn(
        self, digests: Sequence[str], *, tenant: uuid.UUID
    ) -> dict[str, tuple[uuid.UUID, str, str]]:
        """MRN digest -> (patient id, first name, last name)."""
        if not digests:
            return {}
        rows = await self.session.execute(
            select(Patient.mrn_index, Patient.id, Patient.first_name, Patient.last_name).where(
                Patient.organization_id == tenant, Patient.mrn_index.in_(padded(digests))
            )
        )
        return {row[0]: (row[1], row[2], row[3]) for row in rows}

    async def insert_patients(self, rows: list[dict[str, Any]]) -> set[uuid.UUID]:
        """Insert the patients whose MRN is still free; the ids actually inserted."""
        if not rows:
            return set()
        table = Patient.__table__
        statement = self._insert_ignoring(table, ["organization_id", "mrn_index"]).returning(
            table.c.id
        )
        return await self._insert_returning(statement, sorted(rows, key=_by("mrn_index")))

    async def insert_tokens(self, rows: list[dict[str, Any]]) -> None:
        for page in pages(rows):
            await self.session.execute(insert(_TOKENS), page)

    async def latest_by_key(
        self, keys: Sequence[str], *, tenant: uuid.UUID
    ) -> dict[str, tuple[uuid.UUID, int, str | None]]:
        """Import key -> (record id, version, content digest) of its highest version."""
        if not keys:
            return {}
        # Every version of the keys, by the unique (organization, key, version) index; the
        # highest is picked here (a join on a grouped subquery made PostgreSQL scan the
        # organization's records on every batch).
        rows = await self.session.execute(
            select(
                MedicalRecord.import_key,
                MedicalRecord.id,
                MedicalRecord.version,
                MedicalRecord.import_digest,
            ).where(
                MedicalRecord.organization_id == tenant,
                MedicalRecord.import_key.in_(padded(keys)),
            )
        )
        latest: dict[str, tuple[uuid.UUID, int, str | None]] = {}
        for key, record_id, version, digest in rows:
            known = latest.get(str(key))
            if known is None or version > known[1]:
                latest[str(key)] = (record_id, version, digest)
        return latest

    async def insert_records(self, rows: list[dict[str, Any]]) -> set[uuid.UUID]:
        """Insert records whose (import key, version) is still free; the ids inserted."""
        if not rows:
            return set()
        table = MedicalRecord.__table__
        statement = self._insert_ignoring(
            table, ["organization_id", "import_key", "version"]
        ).returning(table.c.id)
        return await self._insert_returning(statement, sorted(rows, key=_by("import_key")))

    async def _insert_returning(self, statement: Any, rows: list[dict[str, Any]]) -> set[Any]:
        """The ids the statement inserted, the rows sent a page at a time (few shapes)."""
        inserted: set[Any] = set()
        for page in pages(rows):
            result = await self.session.execute(statement, page)
            inserted.update(result.scalars().all())
        return inserted

    async def refresh_statistics(self) -> None:
        """ANALYZE the tables a bulk import fills (PostgreSQL; SQLite needs none).

        While an organization's first large import runs, the planner still thinks
        it has a few hundred records and reads all of them through the
        organization index on every batch instead of probing the unique keys.
        """
        if self.session.bind is not None and self.session.bind.dialect.name == "postgresql":
            await self.session.execute(text("ANALYZE patients, medical_records"))

    async def mark_superseded(
        self, pairs: Sequence[tuple[uuid.UUID, uuid.UUID]], *, tenant: uuid.UUID
    ) -> None:
        for previous, successor in pairs:
            await self.session.execute(
                update(MedicalRecord)
                .where(
                    MedicalRecord.id == previous,
                    MedicalRecord.organization_id == tenant,
                    MedicalRecord.superseded_by_id.is_(None),
                )
                .values(superseded_by_id=successor)
                .execution_options(synchronize_session=False)
            )


def _by(column: str) -> Any:
    def key(row: dict[str, Any]) -> tuple[str, int]:
        return (str(row[column]), int(row.get("version", 0)))

    return key
