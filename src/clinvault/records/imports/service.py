"""Imported visits into patients and medical records, a batch per call, idempotently.

The records platform's side of CSV ingest: the caller (the ingest job) has
already checked each row's format and its own permissions. Per batch this
finds the patients of the MRNs in one query (creating the missing ones, flagged
as imported, with the same search tokens as patients registered through the
API), computes every idempotency key, reads the existing records of those keys
in one query and inserts the new ones in one statement.

The idempotency key is a keyed digest of (MRN digest, instant), unique per
organization and version; the content digest is a keyed digest of the notes.
A row whose key exists with the same content is "present"; with different
content it is a conflict or, when the organization chose so, an amendment (a
new version that supersedes the latest one).
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, NamedTuple

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.bootstrap import Container
from clinvault.ids import uuid7
from clinvault.records.imports.cache import UNKNOWN_GENDER, ImportCache
from clinvault.records.imports.repository import ImportRepository
from clinvault.timeutil import utcnow

log = structlog.get_logger(__name__)

OnChanged = Literal["reject", "amend"]
VISIT_TYPE = "consultation"
VISIT_TITLE = "Visit"
NAME_MISMATCH = (
    "This MRN belongs to another patient (the first or last name differs): correct the "
    "MRN or the name; rows are never merged into another patient."
)
CHANGED = (
    "A record with this MRN and date-time already exists with different notes: correct the "
    "row, or set the organization's import setting to store changed rows as amendments."
)
RACED = "Another import wrote a different record for this MRN and date-time just now."


class Visit(NamedTuple):
    """One valid row of the file (a tuple: one is built per row)."""

    line: int
    mrn: str
    first_name: str
    last_name: str
    recorded_at: datetime
    notes: str


@dataclass(frozen=True, slots=True)
class Rejection:
    line: int
    column: str | None
    code: str
    message: str


@dataclass
class BatchOutcome:
    inserted: int = 0
    present: int = 0
    amended: int = 0
    patients_created: int = 0
    rejected: list[Rejection] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Provenance:
    job_id: uuid.UUID
    source_name: str
    processed_at: datetime


class RecordImportService:
    def __init__(
        self, session: AsyncSession, container: Container, cache: ImportCache | None = None
    ) -> None:
        self.session = session
        self.indexer = container.blind_index
        self.cache = cache if cache is not None else ImportCache(container.blind_index)
        self.repository = ImportRepository(session)
        self._key = container.keys.derive("ingest")

    def _mac(self, domain: bytes, text: str) -> str:
        return hmac.new(self._key, domain + b"\x00" + text.encode(), hashlib.sha256).hexdigest()

    def import_key(self, mrn_index: str, recorded_at: datetime) -> str:
        return self._mac(b"key", f"{mrn_index}|{recorded_at.isoformat()}")

    def content_digest(self, notes: str) -> str:
        return self._mac(b"content", notes)

    async def write_batch(
        self,
        visits: Sequence[Visit],
        *,
        organization_id: uuid.UUID,
        provenance: Provenance,
        on_changed: OnChanged = "reject",
        write: bool = True,
    ) -> BatchOutcome:
        """Write one batch (or, with `write=False`, only say what would happen)."""
        outcome = BatchOutcome()
        digests = {visit.mrn: self.cache.mrn_digest(visit.mrn) for visit in visits}
        patients = await self._stored_patients(sorted(set(digests.values())), organization_id)
        accepted = await self._patients_of(
            visits, digests, patients, organization_id, provenance, outcome, write
        )
        keys = {
            visit.line: self.import_key(digests[visit.mrn], visit.recorded_at)
            for visit, _ in accepted
        }
        latest = await self.repository.latest_by_key(
            sorted(set(keys.values())), tenant=organization_id
        )
        rows: list[dict[str, Any]] = []
        superseded: list[tuple[uuid.UUID, uuid.UUID]] = []
        planned: dict[uuid.UUID, tuple[Visit, str, str]] = {}
        for visit, patient_id in accepted:
            key = keys[visit.line]
            digest = self.content_digest(visit.notes)
            known = latest.get(key)
            if known is not None and known[2] == digest:
                outcome.present += 1
                continue
            if known is not None and on_changed == "reject":
                outcome.rejected.append(Rejection(visit.line, "doctors_notes", "conflict", CHANGED))
                continue
            record_id = uuid7()
            version = 1 if known is None else known[1] + 1
            rows.append(
                self._record_row(record_id, visit, patient_id, organization_id, provenance)
                | {"import_key": key, "import_digest": digest, "version": version}
                | ({"supersedes_id": known[0]} if known is not None else {})
            )
            planned[record_id] = (visit, key, digest)
            if known is not None:
                superseded.append((known[0], record_id))
            latest[key] = (record_id, version, digest)
        if not write:
            outcome.inserted = len(rows) - len(superseded)
            outcome.amended = len(superseded)
            return outcome
        inserted = await self.repository.insert_records(rows)
        await self.repository.mark_superseded(
            [pair for pair in superseded if pair[1] in inserted], tenant=organization_id
        )
        amended_ids = {pair[1] for pair in superseded}
        outcome.amended = len(inserted & amended_ids)
        outcome.inserted = len(inserted) - outcome.amended
        lost = [planned[record_id] for record_id in planned if record_id not in inserted]
        if lost:
            await self._settle_races(lost, organization_id, outcome)
        return outcome

    async def refresh_statistics(self) -> None:
        """Let the database re-plan as an import grows the tables (call between batches)."""
        await self.repository.refresh_statistics()

    async def _patients_of(
        self,
        visits: Sequence[Visit],
        digests: dict[str, str],
        patients: dict[str, tuple[uuid.UUID, str, str]],
        organization_id: uuid.UUID,
        provenance: Provenance,
        outcome: BatchOutcome,
        write: bool,
    ) -> list[tuple[Visit, uuid.UUID]]:
        """Each visit with its patient id; a new MRN gets a patient, another name is refused."""
        new: dict[str, dict[str, Any]] = {}
        for visit in visits:
            digest = digests[visit.mrn]
            if digest not in patients:
                patient_id = uuid7()
                patients[digest] = (
                    patient_id,
                    self.cache.given_name(visit.first_name),
                    self.cache.given_name(visit.last_name),
                )
                new[digest] = self._patient_row(patient_id, visit, digest, organization_id)
                new[digest]["imported_by_job_id"] = provenance.job_id
        if new and write:
            inserted = await self.repository.insert_patients(list(new.values()))
            outcome.patients_created = len(inserted)
            await self.repository.insert_tokens(
                [
                    token
                    for row in new.values()
                    if row["id"] in inserted
                    for token in self._tokens(row)
                ]
            )
            raced = [digest for digest, row in new.items() if row["id"] not in inserted]
            if raced:
                patients.update(await self._stored_patients(raced, organization_id))
        elif new:
            outcome.patients_created = len(new)
        accepted: list[tuple[Visit, uuid.UUID]] = []
        for visit in visits:
            patient_id, first, last = patients[digests[visit.mrn]]
            same_first = first == self.cache.given_name(visit.first_name)
            if not same_first or last != self.cache.given_name(visit.last_name):
                column = "first_name" if not same_first else "last_name"
                outcome.rejected.append(
                    Rejection(visit.line, column, "mrn_other_patient", NAME_MISMATCH)
                )
                continue
            accepted.append((visit, patient_id))
        return accepted

    async def _stored_patients(
        self, digests: Sequence[str], organization_id: uuid.UUID
    ) -> dict[str, tuple[uuid.UUID, str, str]]:
        """MRN digest -> (patient id, normalized first name, normalized last name)."""
        stored = await self.repository.patients_by_mrn(digests, tenant=organization_id)
        return {
            digest: (
                patient_id,
                self.cache.stored_name(first, "patients.first_name"),
                self.cache.stored_name(last, "patients.last_name"),
            )
            for digest, (patient_id, first, last) in stored.items()
        }

    def _tokens(self, row: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            {
                "organization_id": row["organization_id"],
                "patient_id": row["id"],
                "kind": kind,
                "token_hash": digest,
            }
            for kind, digest in self.cache.patient_tokens(row["first_name"], row["last_name"])
        ]

    async def _settle_races(
        self, lost: list[tuple[Visit, str, str]], organization_id: uuid.UUID, outcome: BatchOutcome
    ) -> None:
        """Rows another import inserted first: the same content is present, else a conflict."""
        now = await self.repository.latest_by_key(
            sorted({key for _, key, _ in lost}), tenant=organization_id
        )
        for visit, key, digest in lost:
            known = now.get(key)
            if known is not None and known[2] == digest:
                outcome.present += 1
            else:
                outcome.rejected.append(Rejection(visit.line, "date_time", "conflict", RACED))

    def _patient_row(
        self, patient_id: uuid.UUID, visit: Visit, digest: str, organization_id: uuid.UUID
    ) -> dict[str, Any]:
        return {
            "id": patient_id,
            "organization_id": organization_id,
            "mrn": visit.mrn,
            "mrn_index": digest,
            "first_name": visit.first_name,
            "last_name": visit.last_name,
            "date_of_birth": "",
            "gender": UNKNOWN_GENDER,
            "created_at": utcnow(),
            "updated_at": utcnow(),
        }

    def _record_row(
        self,
        record_id: uuid.UUID,
        visit: Visit,
        patient_id: uuid.UUID,
        organization_id: uuid.UUID,
        provenance: Provenance,
    ) -> dict[str, Any]:
        return {
            "id": record_id,
            "organization_id": organization_id,
            "patient_id": patient_id,
            "record_type": VISIT_TYPE,
            "priority": "normal",
            "title": VISIT_TITLE,
            "content": visit.notes,
            "author_id": None,
            "recorded_at": visit.recorded_at,
            "created_at": provenance.processed_at,
            "import_job_id": provenance.job_id,
            "import_row": visit.line,
            "import_source": provenance.source_name,
            "processed_at": provenance.processed_at,
            "supersedes_id": None,
            "superseded_by_id": None,
        }
