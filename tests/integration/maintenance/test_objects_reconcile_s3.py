"""The reconcile on S3 storage (moto's S3 API): every object accounted for, outages not hidden."""

from __future__ import annotations

from dataclasses import replace

import boto3
import pytest
from tests.contracts.conftest import MotoServer, free_port, moto_server  # noqa: F401
from tests.factories import create_org
from tests.integration.maintenance.test_objects_reconcile import _chunks

from clinvault.bootstrap import Container
from clinvault.ids import uuid7
from clinvault.maintenance.service import reconcile_objects
from clinvault.models.objects import EncryptedObject
from clinvault.storage.objects import EncryptedObjectStore
from clinvault.storage.ports import StorageError
from clinvault.storage.s3 import S3Storage


def _on(container: Container, storage: S3Storage) -> Container:
    return replace(
        container, storage=storage, objects=EncryptedObjectStore(storage, container.keys)
    )


async def test_orphans_go_rows_keep_their_objects_and_missing_objects_are_reported(
    container: Container,
    moto_server: MotoServer,  # noqa: F811
) -> None:
    s3 = moto_server.client("s3")
    bucket = moto_server.new_bucket()
    isolated = _on(container, S3Storage(s3, bucket, "clinvault"))
    org = await create_org(isolated)
    orphan = f"orgs/{org.id}/probe/{uuid7()}"
    await isolated.objects.put(orphan, _chunks(b"left by a crash before commit"))
    kept_id, missing_id = uuid7(), uuid7()
    kept = f"orgs/{org.id}/probe/{kept_id}"
    stored = await isolated.objects.put(kept, _chunks(b"scan"))
    async with isolated.db.unit_of_work() as session:
        for row_id, key in ((kept_id, kept), (missing_id, f"orgs/{org.id}/probe/{missing_id}")):
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

    young = await reconcile_objects(isolated)
    report = await reconcile_objects(isolated, grace_minutes=0)

    assert (young.checked, young.recent, young.deleted) == (2, 1, 0)
    assert (report.checked, report.orphaned, report.deleted, report.missing) == (2, 1, 1, 1)
    assert report.missing_object_ids == [str(missing_id)]
    names = [entry["Key"] for entry in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert names == [f"clinvault/{kept}"]


async def test_an_unreachable_bucket_fails_the_reconcile_instead_of_reporting_nothing(
    container: Container,
) -> None:
    client = boto3.session.Session(
        aws_access_key_id="t", aws_secret_access_key="t", region_name="us-east-1"
    ).client("s3", endpoint_url=f"http://127.0.0.1:{free_port()}")
    isolated = _on(container, S3Storage(client, "clinvault-objects"))

    with pytest.raises(StorageError, match="unreachable"):
        await reconcile_objects(isolated)
