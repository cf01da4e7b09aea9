"""Object keys of an import and the moves between its stages.

Keys are generated, never chosen by the client, under the organization's
prefix: orgs/{org}/ingest/{stage}/{date}/{time}-{random}.csv, so no upload can
overwrite another. A move copies the ciphertext as it is (the data key does not
depend on the key name) and deletes the source after the row points at the copy.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime

from clinvault.storage.ports import ObjectStorage

STAGES = ("uploaded", "processing", "completed", "failed")


def upload_key(organization_id: uuid.UUID, now: datetime) -> str:
    return (
        f"orgs/{organization_id}/ingest/uploaded/{now:%Y-%m-%d}/"
        f"{now:%H%M%S}-{secrets.token_hex(8)}.csv"
    )


def report_key(organization_id: uuid.UUID, job_id: uuid.UUID) -> str:
    return f"orgs/{organization_id}/ingest/reports/{job_id}-errors.csv"


def staged(key: str, stage: str) -> str:
    """The same object's key in another stage."""
    parts = key.split("/")
    if len(parts) < 6 or parts[2] != "ingest" or parts[3] not in STAGES:
        raise ValueError(f"not an ingest object key: {key!r}")
    parts[3] = stage
    return "/".join(parts)


async def copy_object(storage: ObjectStorage, source: str, target: str) -> None:
    if source != target:
        await storage.put(target, storage.get(source))
