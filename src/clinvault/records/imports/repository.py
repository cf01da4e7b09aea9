"""All SQL of bulk imports into patients and medical records; every query is tenant-scoped.

Inserts use ON CONFLICT DO NOTHING on the unique keys (the MRN digest of a
patient, the import key and version of a record), so two imports of
overlapping files running at once never write a row twice: the loser of a
race sees which rows it did not insert (RETURNING on PostgreSQL, the row count
and a read-back of its fresh ids on SQLite) and reads the winners' rows. Rows
are inserted in the order of their unique key, so that two such imports take
their row locks in the same order and cannot deadlock each other. A batch is
one fixed statement per table whatever its size (one array per column on
PostgreSQL, a one-row statement executed over the batch on SQLite) and the
keys looked up go as one parameter (`_among`), so that batches of any size
reuse a few prepared statements.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ARRAY,
    String,
    Text,
    any_,
    bindparam,
    func,
    literal_column,
    select,
    text,
    type_coerce,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.batching import padded, pages
from clinvault.models.records import MedicalRecord, Patient, PatientSearchToken

_TOKENS: Any = PatientSearchToken.__table__


class ImportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _among(self, column: Any, values: Sequence[str]) -> Any:
        """`column IN values` as one parameter whatever the number of values: an array on
        PostgreSQL (`= ANY`), a JSON array read by `json_each` on SQLite; both probe the
        column's index value by value, and the statement's text never changes."""
        bind = self.session.bind
        if bind is not None and bind.dialect.name == "postgresql":
            return column == any_(bindparam(None, list(values), type_=ARRAY(String)))
        listed = func.json_each(bindparam(None, json.dumps(list(values)), type_=String))
        return column.in_(select(literal_column("value")).select_from(listed))

    async def patients_by_mrn(
        self, digests: Sequence[str], *, tenant: uuid.UUID
    ) -> dict[str, tuple[uuid.UUID, str, str]]:
        """MRN digest -> (patient id, first name, last name), the names as stored (their
        field ciphertexts: the caller decrypts the ones it has not seen yet)."""
        if not digests:
            return {}
        table = Patient.__table__
        rows = await self.session.execute(
            select(
                table.c.mrn_index,
                table.c.id,
                type_coerce(table.c.first_name, Text),
                type_coerce(table.c.last_name, Text),
            ).where(table.c.organization_id == tenant, self._among(table.c.mrn_index, digests))
        )
        return {row[0]: (row[1], row[2], row[3]) for row in rows}

    async def insert_patients(self, rows: list[dict[str, Any]]) -> set[uuid.UUID]:
        """Insert the patients whose MRN is still free; the ids actually inserted."""
        if not rows:
            return set()
        return await self._insert_new(
            Patient.__table__, sorted(rows, key=_by("mrn_index")), ["organization_id", "mrn_index"]
        )

    async def insert_tokens(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            await self._insert_new(_TOKENS, rows, None)

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
                self._among(MedicalRecord.import_key, keys),
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
        return await self._insert_new(
            MedicalRecord.__table__,
            sorted(rows, key=_by("import_key")),
            ["organization_id", "import_key", "version"],
        )

    async def _insert_new(
        self, table: Any, rows: list[dict[str, Any]], unique: list[str] | None
    ) -> set[Any]:
        """Insert the rows (all with the same keys, in order) whose `unique` key is free; the
        ids of the rows inserted (`unique=None`: a plain insert, nothing returned).

        One fixed statement per table, not one per row count: the values are bound by
        the columns' own types (encryption included) and sent to the driver as is.
        PostgreSQL takes the whole batch as one array per column (`unnest`), one round
        trip with RETURNING; SQLite runs a one-row statement over the batch
        (executemany) and, only when fewer rows than sent were inserted, reads back
        which of the fresh ids exist.
        """
        connection = await self.session.connection()
        dialect = connection.dialect
        names = list(rows[0])
        by_column = [_bound(table.c[name], [row[name] for row in rows], dialect) for name in names]
        columns = ", ".join(names)
        conflict = f" ON CONFLICT ({', '.join(unique)}) DO NOTHING" if unique else ""
        if dialect.name == "postgresql":
            arrays = ", ".join(
                f"${number}::{table.c[name].type.compile(dialect=dialect)}[]"
                for number, name in enumerate(names, start=1)
            )
            returning = " RETURNING id" if unique else ""
            result = await connection.exec_driver_sql(
                # Names from the table itself (table.c[name] above), values bound.
                f"INSERT INTO {table.name} ({columns}) SELECT * FROM unnest({arrays})"  # noqa: S608
                f"{conflict}{returning}",
                tuple(by_column),
            )
            return set(result.scalars().all()) if unique else set()
        marks = ", ".join("?" * len(names))
        result = await connection.exec_driver_sql(
            f"INSERT INTO {table.name} ({columns}) VALUES ({marks}){conflict}",  # noqa: S608
            list(zip(*by_column, strict=True)),
        )
        if unique is None:
            return set()
        ids = [row["id"] for row in rows]
        if result.rowcount == len(rows):
            return set(ids)
        found: set[Any] = set()
        for page in pages(ids):
            found.update(
                (
                    await self.session.execute(
                        select(table.c.id).where(table.c.id.in_(padded(page)))
                    )
                ).scalars()
            )
        return found

    async def refresh_statistics(self) -> None:
        """ANALYZE the tables a bulk import fills (PostgreSQL; SQLite needs none).

        While an organization's first large import runs, the planner still thinks
        it has a few hundred records and reads all of them through the
        organization index on every batch instead of probing the unique keys.
        """
        if self.session.bind is not None and self.session.bind.dialect.name == "postgresql":
            # Only the columns the import's lookups and the records' listing filter on: the
            # encrypted ones are wide, random ciphertext, costly to sample and useless to plan.
            await self.session.execute(
                text(
                    "ANALYZE patients (organization_id, mrn_index), medical_records "
                    "(organization_id, patient_id, recorded_at, import_key, version)"
                )
            )

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


def _bound(column: Any, values: list[Any], dialect: Any) -> list[Any]:
    """One column's values as its type binds them (encrypted for EncryptedString)."""
    bind = column.type.bind_processor(dialect)
    if bind is None:
        return values
    return [None if value is None else bind(value) for value in values]


def _by(column: str) -> Any:
    def key(row: dict[str, Any]) -> tuple[str, int]:
        return (str(row[column]), int(row.get("version", 0)))

    return key
