"""Object keys of an import and the moves between its stages.

Keys are generated, never chosen by the client, under the organization's
prefix: orgs/{org}/ingest/{stage}/{date}/{time}-{random}.csv, so no upload can
overwrite another. A move copies the ciphertext as it is (the data key does not
depend on the key name) and deletes the source after the row points at the copy.
"""

from __future__ import annotations

import re
import secrets
import uuid
from datetime import datetime

from clinvault.storage.ports import ObjectStorage

STAGES = ("uploaded", "processing", "completed", "failed")
_DECLARED = re.compile(r"-([0-9a-f]{64})\.csv$")


def upload_key(organization_id: uuid.UUID, now: datetime, sha256: str | None = None) -> str:
    """A new upload's key; a file PUT straight to S3 carries its declared SHA-256 in the name."""
    name = f"{now:%H%M%S}-{secrets.token_hex(8)}"
    if sha256 is not None:
        name += f"-{sha256.lower()}"
    return f"orgs/{organization_id}/ingest/uploaded/{now:%Y-%m-%d}/{name}.csv"


def declared_sha256(key: str) -> str | None:
    """The SHA-256 an upload declared, from its key (None for an embedded upload)."""
    found = _DECLARED.search(key)
    return found.group(1) if found else None


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
