"""The reconcile of stored objects against their rows, on a real database and real files."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from dbos import DBOS
from sqlalchemy import select
from structlog.testing import capture_logs
from tests.factories import create_org

from clinvault.bootstrap import Container
from clinvault.ids import uuid7
from clinvault.maintenance import service
from clinvault.maintenance.service import Finding, FindingKind, reconcile_objects
from clinvault.maintenance.workflows import RECONCILE_SCHEDULE, objects_reconcile_workflow
from clinvault.models.identity import Organization
from clinvault.models.objects import EncryptedObject
from clinvault.storage.local import LocalStorage
from clinvault.storage.objects import EncryptedObjectStore
from clinvault.storage.spool import spool_root

OLD = timedelta(hours=2)


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


@pytest.fixture
def isolated(container: Container, tmp_path: Path) -> Container:
    """The app's container and database, with an object store of this test's own."""
    storage = LocalStorage(tmp_path / "objects")
    return replace(
        container, storage=storage, objects=EncryptedObjectStore(storage, container.keys)
    )


def _root(container: Container) -> Path:
    storage = container.storage
    assert isinstance(storage, LocalStorage)
    return storage.root


def _age(container: Container, key: str, age: timedelta) -> None:
    when = (datetime.now(UTC) - age).timestamp()
    os.utime(_root(container) / key, (when, when))


async def _object(
    container: Container, org: Organization, *, row: bool, age: timedelta = timedelta(0)
) -> tuple[str, uuid.UUID]:
    """An encrypted object under the org's prefix, with or without its row; returns key, row id."""
    row_id = uuid7()
    key = f"orgs/{org.id}/probe/{row_id}"
    stored = await container.objects.put(key, _chunks(b"scan of a document"))
    _age(container, key, age)
    if row:
        async with container.db.unit_of_work() as session:
            session.add(
                EncryptedObject(
                    id=row_id,
                    organization_id=org.id,
                    storage_key=key,
                    wrapped_key=stored.wrapped_key,
                    key_version=stored.key_version,
                    plaintext_size=stored.plaintext_size,
                    sha256=stored.sha256,
                    content_type="application/pdf",
                )
            )
    return key, row_id


def _size(container: Container, key: str) -> int:
    return (_root(container) / key).stat().st_size


async def test_an_old_orphan_goes_a_fresh_one_and_objects_with_rows_stay(
    isolated: Container,
) -> None:
    org = await create_org(isolated)
    old_orphan, _ = await _object(isolated, org, row=False, age=OLD)
    fresh_orphan, _ = await _object(isolated, org, row=False, age=timedelta(minutes=10))
    kept_old, _ = await _object(isolated, org, row=True, age=timedelta(days=30))
    kept_new, _ = await _object(isolated, org, row=True)
    freed = _size(isolated, old_orphan)

    report = await reconcile_objects(isolated)

    assert report.counts() == {
        "grace_minutes": 60,
        "checked": 4,
        "orphaned": 1,
        "orphaned_bytes": freed,
        "deleted": 1,
        "bytes_freed": freed,
        "delete_failed": 0,
        "recent": 1,
        "missing": 0,
        "spool_removed": 0,
    }
    assert not await isolated.storage.exists(old_orphan)
    for key in (fresh_orphan, kept_old, kept_new):
        assert await isolated.storage.exists(key)
    again = await reconcile_objects(isolated)
    assert (again.checked, again.orphaned, again.deleted) == (3, 0, 0)


async def test_dry_run_deletes_nothing(isolated: Container) -> None:
    org = await create_org(isolated)
    orphan, _ = await _object(isolated, org, row=False, age=OLD)

    report = await reconcile_objects(isolated, dry_run=True)

    assert (report.orphaned, report.deleted, report.bytes_freed) == (1, 0, 0)
    assert report.orphaned_bytes == _size(isolated, orphan)
    assert "dry run" in report.summary()
    assert await isolated.storage.exists(orphan)


async def test_every_finding_is_named_and_abandoned_uploads_are_swept(
    isolated: Container,
) -> None:
    org = await create_org(isolated)
    orphan, _ = await _object(isolated, org, row=False, age=OLD)
    fresh, _ = await _object(isolated, org, row=False, age=timedelta(minutes=10))
    lost, lost_id = await _object(isolated, org, row=True, age=OLD)
    (_root(isolated) / lost).unlink()
    abandoned = spool_root(isolated.settings) / "upload-of-a-killed-process"
    abandoned.mkdir(parents=True)
    (abandoned / "part-1").write_bytes(b"sealed bytes nobody can open")

    found: list[Finding] = []
    report = await reconcile_objects(isolated, dry_run=True, on_finding=found.append)

    by_key = {finding.key: finding for finding in found}
    assert set(by_key) == {orphan, fresh, lost}
    assert by_key[orphan].kind is FindingKind.ORPHAN
    assert by_key[orphan].size == _size(isolated, orphan)
    assert 7190 < (by_key[orphan].age_seconds or 0) < 7300
    assert by_key[fresh].kind is FindingKind.RECENT
    assert 590 < (by_key[fresh].age_seconds or 0) < 700
    assert by_key[lost].kind is FindingKind.MISSING
    assert by_key[lost].object_id == str(lost_id)
    assert (report.orphaned, report.recent, report.missing, report.spool_removed) == (1, 1, 1, 0)
    assert abandoned.exists()

    swept = await reconcile_objects(isolated)
    assert swept.spool_removed == 1
    assert not abandoned.exists()
    assert "1 abandoned uploads swept" in swept.summary()


async def test_the_grace_period_is_configurable(isolated: Container) -> None:
    org = await create_org(isolated)
    orphan, _ = await _object(isolated, org, row=False, age=timedelta(minutes=20))

    assert (await reconcile_objects(isolated)).deleted == 0
    assert (await reconcile_objects(isolated, grace_minutes=15)).deleted == 1
    assert not await isolated.storage.exists(orphan)


async def test_rows_without_their_object_are_reported_loudly_and_kept(
    isolated: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small batches, so the lookups page through keys and rows.
    monkeypatch.setattr(service, "LOOKUP_BATCH", 2)
    listed_org = await create_org(isolated)
    empty_org = await create_org(isolated)
    for _ in range(3):
        await _object(isolated, listed_org, row=True)
    lost_key, lost_id = await _object(isolated, listed_org, row=True)
    other_key, other_id = await _object(isolated, empty_org, row=True)
    for key in (lost_key, other_key):
        await isolated.storage.delete(key)

    with capture_logs() as events:
        report = await reconcile_objects(isolated)

    assert (report.checked, report.orphaned, report.missing) == (3, 0, 2)
    assert sorted(report.missing_object_ids) == sorted([str(lost_id), str(other_id)])
    missing = [e for e in events if e["event"] == "storage.object.missing"]
    assert sorted(missing, key=lambda e: e["object_id"]) == sorted(
        [
            {
                "event": "storage.object.missing",
                "log_level": "error",
                "object_id": str(lost_id),
                "organization_id": str(listed_org.id),
            },
            {
                "event": "storage.object.missing",
                "log_level": "error",
                "object_id": str(other_id),
                "organization_id": str(empty_org.id),
            },
        ],
        key=lambda e: e["object_id"],
    )
    async with isolated.db.sessions() as session:
        kept = await session.scalars(
            select(EncryptedObject.id).where(EncryptedObject.id.in_([lost_id, other_id]))
        )
        assert sorted(kept) == sorted([lost_id, other_id])


async def test_orphans_outside_any_known_organization_are_removed(isolated: Container) -> None:
    org = await create_org(isolated)
    kept, _ = await _object(isolated, org, row=True, age=OLD)
    for key in (f"orgs/{uuid7()}/stray", "orgs/not-a-uuid/stray", "orgs/top-level"):
        await isolated.storage.put(key, _chunks(b"left behind"))
        _age(isolated, key, OLD)
    await isolated.storage.put("elsewhere/kept", _chunks(b"not under orgs/"))
    _age(isolated, "elsewhere/kept", OLD)

    report = await reconcile_objects(isolated)

    assert (report.checked, report.deleted, report.missing) == (4, 3, 0)
    assert [info.key async for info in isolated.storage.list("")] == ["elsewhere/kept", kept]


async def test_the_daily_schedule_runs_the_reconcile_as_a_workflow(container: Container) -> None:
    schedules = await DBOS.list_schedules_async()
    assert any(s["schedule_name"] == RECONCILE_SCHEDULE for s in schedules)
    org = await create_org(container)
    orphan, _ = await _object(container, org, row=False, age=OLD)
    kept, _ = await _object(container, org, row=True, age=OLD)

    handle = await DBOS.start_workflow_async(objects_reconcile_workflow, datetime.now(UTC), None)
    await handle.get_result()

    assert not await container.storage.exists(orphan)
    assert await container.storage.exists(kept)
    steps = await DBOS.list_workflow_steps_async(handle.workflow_id)
    assert steps[0]["output"]["deleted"] >= 1
