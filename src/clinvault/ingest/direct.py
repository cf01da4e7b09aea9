"""Files PUT straight to an S3 bucket: the presigned PUT, its completion, the re-encryption.

With `s3://` storage, `POST /api/ingest/uploads` declares the file (exact size,
SHA-256) and gets a presigned PUT of a generated key in the organization's
staging area (`orgs/{org}/ingest/uploaded/...`). The signature covers the
Content-Length, the `x-amz-checksum-sha256` header (so S3 refuses other
bytes), the server-side encryption (SSE-KMS, else SSE-S3) and the ingest tag.
The staged object is the only place the CSV exists without clinvault's own
envelope, and only until the job has re-encrypted it:

- `complete` HEADs it (present, the declared size and checksum, server-side
  encrypted); a wrong object is deleted at once and refused (422).
- the job's first step (`adopt`) streams it through `EncryptedObjectStore` into
  `.../processing/...`, hashing the plaintext on the way (a file that is not the
  declared one fails the job before any row is read), commits the object row,
  then deletes the staged object.

What a crash leaves behind is an object without a row: the daily reconcile
deletes it once older than its grace (staged objects of an upload still
awaiting completion or re-encryption are kept), and the deleted versions go
by the bucket's lifecycle rule on the ingest tag.

Upload statuses: `presigned` (awaiting the PUT and completion), `staged`
(completed, awaiting re-encryption), then `received`, as embedded uploads.
"""

from __future__ import annotations

import base64
import uuid

import structlog

from clinvault.bootstrap import Container
from clinvault.errors.ingest import IngestUploadIncomplete, IngestUploadMismatch, IngestUrlExpired
from clinvault.ingest import storage as keys
from clinvault.ingest.repository import IngestRepository
from clinvault.ingest.schemas import FINISHED_STATES
from clinvault.models.ingest import IngestUpload
from clinvault.models.objects import EncryptedObject
from clinvault.storage.ports import ObjectMissing
from clinvault.storage.s3 import S3Storage
from clinvault.timeutil import utcnow

log = structlog.get_logger(__name__)

PRESIGNED = "presigned"
STAGED = "staged"
NEW_UPLOAD = "create a new upload (POST /api/ingest/uploads) with the file's size and SHA-256"
NOT_DECLARED = (
    "The file in storage is not the one the upload declared (its SHA-256 or size differs); "
    "nothing was imported and it was deleted. Upload the file again."
)
GONE = "The uploaded file is no longer in storage; nothing was imported. Upload it again."


def direct_storage(container: Container) -> S3Storage | None:
    """The bucket clients PUT to, when the storage is S3."""
    return container.storage if isinstance(container.storage, S3Storage) else None


def base64_sha256(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode("ascii")


def presign(storage: S3Storage, upload: IngestUpload, sha256: str) -> tuple[str, dict[str, str]]:
    seconds = max(1, int((upload.expires_at - utcnow()).total_seconds()))
    return storage.presigned_upload(
        upload.storage_key,
        expires_in=seconds,
        size=upload.max_bytes,
        sha256_base64=base64_sha256(sha256),
    )


async def check_staged(container: Container, upload: IngestUpload) -> None:
    """Refuse (409, 410 or 422) unless the declared file is in the bucket, encrypted."""
    storage = direct_storage(container)
    if storage is None:
        raise IngestUploadIncomplete(
            "This upload was made for S3 storage, which is no longer configured: "
            "request a new upload with POST /api/ingest/uploads."
        )
    if upload.expires_at < utcnow():
        await storage.delete(upload.storage_key)
        raise IngestUrlExpired(f"The upload expired before it was completed: {NEW_UPLOAD}.")
    try:
        head = await storage.head(upload.storage_key)
    except ObjectMissing:
        raise IngestUploadIncomplete(
            "No file has arrived at the upload URL yet: PUT the file to its url with the "
            "headers the upload listed, then complete the upload."
        ) from None
    declared = keys.declared_sha256(upload.storage_key)
    problem = None
    if head.size != upload.max_bytes:
        problem = f"The stored file has {head.size} bytes, the upload declared {upload.max_bytes}"
    elif declared is None or (
        head.sha256_base64 is not None and head.sha256_base64 != base64_sha256(declared)
    ):
        problem = "The stored file's SHA-256 is not the one the upload declared"
    elif not head.server_side_encryption:
        problem = (
            "The file was stored without server-side encryption (send the "
            "x-amz-server-side-encryption header the upload listed)"
        )
    if problem is not None:
        await storage.delete(upload.storage_key)
        raise IngestUploadMismatch(
            f"{problem}; it was deleted. PUT the declared file to the same URL before it "
            f"expires and complete again, or {NEW_UPLOAD}."
        )


async def adopt(container: Container, job_id: uuid.UUID) -> str | None:
    """Envelope-encrypt a staged upload into processing/ and delete the staged object.

    Returns "failed" when the job had to stop (not the declared file, or gone);
    None when there was nothing to do or it was done. Safe to run again: until the
    commit, the staged object is still there and the encrypted copy is rewritten.
    """
    async with container.db.sessions() as session:
        repository = IngestRepository(session)
        job = await repository.job_global(job_id)
        if job is None or job.object_id is not None or job.state in FINISHED_STATES:
            return None
        upload = await repository.upload(job.upload_id, tenant=job.organization_id)
        assert upload is not None
        source, organization_id = upload.storage_key, job.organization_id
        sha256, size, dry_run = job.sha256, job.size, job.dry_run
    target = keys.staged(source, "processing")
    try:
        stored = await container.objects.put(target, container.storage.get(source))
    except ObjectMissing:
        return await _fail(container, job_id, GONE)
    if stored.sha256 != sha256 or stored.plaintext_size != size:
        await container.storage.delete(target)
        await container.storage.delete(source)
        log.warning("ingest.upload.not_declared", job_id=str(job_id))
        return await _fail(container, job_id, NOT_DECLARED)
    async with container.db.unit_of_work() as session:
        repository = IngestRepository(session)
        row = EncryptedObject(
            organization_id=organization_id,
            storage_key=target,
            wrapped_key=stored.wrapped_key,
            key_version=stored.key_version,
            plaintext_size=stored.plaintext_size,
            sha256=stored.sha256,
            content_type="text/csv",
        )
        await repository.add(row)
        job = await repository.job_global(job_id)
        upload = await repository.upload(job.upload_id, tenant=organization_id) if job else None
        assert job is not None
        assert upload is not None
        job.object_id = row.id
        job.state = "validating" if dry_run else "processing"
        job.started_at = utcnow()
        upload.status = "received"
    await container.storage.delete(source)
    log.info("ingest.upload.reencrypted", job_id=str(job_id))
    return None


async def _fail(container: Container, job_id: uuid.UUID, message: str) -> str:
    async with container.db.unit_of_work() as session:
        repository = IngestRepository(session)
        job = await repository.job_global(job_id)
        assert job is not None
        job.state = "failed"
        job.finished_at = utcnow()
        job.message = message
        upload = await repository.upload(job.upload_id, tenant=job.organization_id)
        if upload is not None:
            upload.status = "received"  # no longer awaited: the reconcile may clean up
    return "failed"
