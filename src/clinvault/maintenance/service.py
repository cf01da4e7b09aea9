"""Stored objects against their rows: remove orphans, report rows whose object is gone.

An upload writes its object first and commits its row after (DESIGN decision
1), so a crash between the two leaves an object without a row. The reconcile
lists every object under `orgs/` and deletes those without an
`encrypted_objects` row once they are older than the grace period; a younger
one may belong to an upload about to commit and is kept. A row whose object
is missing is data loss: it is never touched, only reported loudly (an
error event `storage.object.missing` with ids only) so that an operator can
restore the object from a backup.

Every object under `orgs/` is expected to have a row once its upload has
committed: a feature that keeps objects without a row must store them
elsewhere. The one exception is a CSV file PUT straight to an S3 bucket
(`clinvault.ingest.direct`): it is kept while its upload awaits completion
(unexpired) or its job's re-encryption, and is an orphan like any other after.

Each finding is handed to the caller as it is made (`on_finding`): every
orphan and every object kept as too young (key, size, age), and every row
whose object is missing (row id, key), so that `objects reconcile --dry-run`
names them all. The run also sweeps the upload spool (`clinvault.storage.spool`)
of what ended processes left there; a dry run deletes nothing, spool included.

Memory stays bounded by the largest organization: the listing is sorted, so
an organization's keys arrive together; rows are looked up a batch of keys at
a time, and an organization's rows are compared with its listed keys when the
listing moves on to the next organization.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from enum import StrEnum

import structlog

from clinvault.bootstrap import Container
from clinvault.maintenance.repository import ObjectRowRepository
from clinvault.storage.ports import KeyRejected, StorageError, StoredObjectInfo
from clinvault.storage.spool import spool_root
from clinvault.storage.spool import sweep as sweep_spool
from clinvault.timeutil import utcnow

log = structlog.get_logger(__name__)

ORGS_PREFIX = "orgs/"
LOOKUP_BATCH = 500
# Ids of missing objects kept in the report for the operator; every one is logged.
MISSING_IDS_KEPT = 100


class FindingKind(StrEnum):
    ORPHAN = "orphan"  # an object without a row, older than the grace: deleted
    RECENT = "recent"  # an object without a row, younger than the grace: kept
    MISSING = "missing"  # a row whose object is not in storage: reported


@dataclass(frozen=True, slots=True)
class Finding:
    kind: FindingKind
    key: str
    size: int | None = None
    age_seconds: float | None = None
    object_id: str | None = None


FindingSink = Callable[[Finding], None]


@dataclass
class ReconcileReport:
    dry_run: bool
    grace_minutes: int
    checked: int = 0
    orphaned: int = 0
    orphaned_bytes: int = 0
    deleted: int = 0
    bytes_freed: int = 0
    delete_failed: int = 0
    recent: int = 0
    missing: int = 0
    spool_removed: int = 0
    missing_object_ids: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            name: value
            for name, value in asdict(self).items()
            if isinstance(value, int) and not isinstance(value, bool)
        }

    def summary(self) -> str:
        deleted = (
            f"dry run, {self.orphaned_bytes} bytes would be freed"
            if self.dry_run
            else f"{self.deleted} deleted, {self.bytes_freed} bytes freed"
        )
        failed = f", {self.delete_failed} could not be deleted" if self.delete_failed else ""
        spool = f", {self.spool_removed} abandoned uploads swept" if self.spool_removed else ""
        return (
            f"checked {self.checked} objects: {self.orphaned} orphaned ({deleted}{failed}), "
            f"{self.recent} without a row yet kept (younger than {self.grace_minutes} minutes), "
            f"{self.missing} rows missing their object{spool}"
        )


async def reconcile_objects(
    container: Container,
    *,
    grace_minutes: int | None = None,
    dry_run: bool = False,
    on_finding: FindingSink | None = None,
) -> ReconcileReport:
    """Delete orphan objects older than the grace period; report rows without their object."""
    minutes = grace_minutes
    if minutes is None:
        minutes = container.settings.objects.reconcile_grace_minutes
    reconciler = _Reconciler(
        container, ReconcileReport(dry_run=dry_run, grace_minutes=minutes), on_finding
    )
    report = await reconciler.run()
    if not dry_run:
        swept = await asyncio.to_thread(sweep_spool, spool_root(container.settings))
        report.spool_removed = swept.removed
    log.info("storage.reconcile.finished", **report.counts())
    return report


class _Reconciler:
    def __init__(
        self, container: Container, report: ReconcileReport, on_finding: FindingSink | None
    ) -> None:
        self.container = container
        self.report = report
        self.on_finding = on_finding
        self.started = utcnow()
        self.cutoff = self.started - timedelta(minutes=report.grace_minutes)
        self.pending: list[StoredObjectInfo] = []
        self.settled_organizations: set[uuid.UUID] = set()

    async def run(self) -> ReconcileReport:
        segment: str | None = None
        listed: set[str] = set()
        async for info in self.container.storage.list(ORGS_PREFIX):
            owner = info.key.split("/")[1]
            if owner != segment:
                await self._settle_objects()
                await self._settle_rows(segment, listed)
                segment, listed = owner, set()
            self.report.checked += 1
            listed.add(info.key)
            self.pending.append(info)
            if len(self.pending) >= LOOKUP_BATCH:
                await self._settle_objects()
        await self._settle_objects()
        await self._settle_rows(segment, listed)
        async with self.container.db.sessions() as session:
            owners = await ObjectRowRepository(session).organizations_with_rows_global(self.started)
        for organization_id in owners:
            if organization_id not in self.settled_organizations:
                await self._settle_rows(str(organization_id), set())
        return self.report

    async def _settle_objects(self) -> None:
        """Delete the pending objects that have no row and are older than the grace."""
        batch, self.pending = self.pending, []
        if not batch:
            return
        listed = [info.key for info in batch]
        async with self.container.db.sessions() as session:
            rows = ObjectRowRepository(session)
            known = await rows.keys_with_rows_global(listed)
            # CSV files PUT straight to S3 have no row until their job re-encrypts them.
            known |= await rows.awaited_uploads_global(listed, self.started)
        for info in batch:
            if info.key in known:
                continue
            if info.modified_at >= self.cutoff:
                self.report.recent += 1
                self._found(FindingKind.RECENT, info)
                continue
            self.report.orphaned += 1
            self._found(FindingKind.ORPHAN, info)
            self.report.orphaned_bytes += info.size
            if not self.report.dry_run:
                await self._delete(info)

    def _found(self, kind: FindingKind, info: StoredObjectInfo) -> None:
        if self.on_finding is not None:
            age = (self.started - info.modified_at).total_seconds()
            self.on_finding(Finding(kind, info.key, size=info.size, age_seconds=max(0.0, age)))

    async def _delete(self, info: StoredObjectInfo) -> None:
        try:
            await self.container.storage.delete(info.key)
        except StorageError:
            self.report.delete_failed += 1
            log.exception("storage.orphan.delete_failed", storage_key=info.key)
            return
        self.report.deleted += 1
        self.report.bytes_freed += info.size
        log.info("storage.orphan.deleted", storage_key=info.key, size=info.size)

    async def _settle_rows(self, segment: str | None, listed: set[str]) -> None:
        """Report the organization's rows, older than the listing, whose object was not listed."""
        organization_id = _organization_id(segment)
        if organization_id is None or organization_id in self.settled_organizations:
            return
        self.settled_organizations.add(organization_id)
        after: uuid.UUID | None = None
        while True:
            async with self.container.db.sessions() as session:
                rows = await ObjectRowRepository(session).rows_created_before(
                    tenant=organization_id, before=self.started, after_id=after, limit=LOOKUP_BATCH
                )
            for object_id, key in rows:
                if key not in listed and not await self._exists(key):
                    self._report_missing(organization_id, object_id, key)
            if len(rows) < LOOKUP_BATCH:
                return
            after = rows[-1][0]

    async def _exists(self, key: str) -> bool:
        # Confirms a key the listing did not show (one stored outside its organization's prefix).
        try:
            return await self.container.storage.exists(key)
        except KeyRejected:
            return False

    def _report_missing(self, organization_id: uuid.UUID, object_id: uuid.UUID, key: str) -> None:
        self.report.missing += 1
        if self.on_finding is not None:
            self.on_finding(Finding(FindingKind.MISSING, key, object_id=str(object_id)))
        if len(self.report.missing_object_ids) < MISSING_IDS_KEPT:
            self.report.missing_object_ids.append(str(object_id))
        log.error(
            "storage.object.missing",
            object_id=str(object_id),
            organization_id=str(organization_id),
        )


def _organization_id(segment: str | None) -> uuid.UUID | None:
    if segment is None:
        return None
    try:
        parsed = uuid.UUID(segment)
    except ValueError:
        return None
    return parsed if str(parsed) == segment else None
