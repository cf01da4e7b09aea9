"""A backend the service depends on (object storage, key service, mail) cannot be used now.

Not the caller's fault and not a bug: a 503 with Retry-After. The adapters raise
subclasses that are also their port's own error (`StorageError`, `CryptoError`),
so code below the API handles them as it always did.
"""

from __future__ import annotations

from clinvault.errors.base import ServiceUnavailable

RETRY_AFTER_SECONDS = 5


class BackendUnavailable(ServiceUnavailable):
    code = "backend_unavailable"
    title = "A backend service is unavailable"

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(
            detail, headers={"Retry-After": str(RETRY_AFTER_SECONDS), **(headers or {})}
        )
