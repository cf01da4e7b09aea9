"""Upload URLs: where a client PUTs a CSV file, and how the URL is checked.

`UploadUrlSigner` is the port. The embedded signer (local `file://` storage)
points at clinvault's own PUT route and signs the upload id, organization,
expiry and size limit with HMAC-SHA256 under a key derived for this purpose;
the route refuses an altered, expired or foreign URL, and the single-use rule
is kept by the upload row (see service.py). With S3 storage the API's uploads
are presigned PUTs straight to the bucket instead (direct.py).
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol
from urllib.parse import urlencode

from clinvault.crypto.ports import KeyProvider
from clinvault.errors.ingest import IngestUrlExpired, IngestUrlInvalid


@dataclass(frozen=True, slots=True)
class UploadGrant:
    upload_id: uuid.UUID
    organization_id: uuid.UUID
    storage_key: str
    expires_at: datetime
    max_bytes: int


class UploadUrlSigner(Protocol):
    def url(self, grant: UploadGrant) -> str: ...


def _message(upload_id: str, organization_id: str, expires: int, max_bytes: int) -> bytes:
    return f"ingest-upload\x00{upload_id}\x00{organization_id}\x00{expires}\x00{max_bytes}".encode()


class EmbeddedUploadSigner:
    def __init__(self, keys: KeyProvider, public_url: str) -> None:
        self._key = keys.derive("ingest-upload-url")
        self._base = public_url.rstrip("/")

    def signature(self, upload_id: str, organization_id: str, expires: int, max_bytes: int) -> str:
        return hmac.new(
            self._key, _message(upload_id, organization_id, expires, max_bytes), hashlib.sha256
        ).hexdigest()

    def url(self, grant: UploadGrant) -> str:
        expires = int(grant.expires_at.timestamp())
        query = {
            "org": str(grant.organization_id),
            "expires": str(expires),
            "max_bytes": str(grant.max_bytes),
            "signature": self.signature(
                str(grant.upload_id), str(grant.organization_id), expires, grant.max_bytes
            ),
        }
        return f"{self._base}/api/ingest/uploads/{grant.upload_id}/content?{urlencode(query)}"

    def verify(
        self,
        upload_id: uuid.UUID,
        *,
        organization: str,
        expires: str,
        max_bytes: str,
        signature: str,
        now: datetime | None = None,
    ) -> tuple[uuid.UUID, int]:
        """(organization id, size limit) of an intact, unexpired URL; else the refusal."""
        invalid = IngestUrlInvalid(
            "The upload URL is not valid (altered or incomplete): request a new one with "
            "POST /api/ingest/uploads."
        )
        try:
            organization_id = uuid.UUID(organization)
            expiry = int(expires)
            limit = int(max_bytes)
        except ValueError:
            raise invalid from None
        expected = self.signature(str(upload_id), str(organization_id), expiry, limit)
        if not hmac.compare_digest(expected, signature.lower()):
            raise invalid
        if (now or datetime.now(UTC)).timestamp() > expiry:
            raise IngestUrlExpired(
                "The upload URL has expired: request a new one with POST /api/ingest/uploads."
            )
        return organization_id, limit
