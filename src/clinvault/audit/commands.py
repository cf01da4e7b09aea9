"""What `clinvault audit verify` and `clinvault audit export` run."""

from __future__ import annotations

import os
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, TextIO

from clinvault.audit.chain import CheckpointFile
from clinvault.audit.export import export_ndjson
from clinvault.audit.verify import VerifyReport, verify_chain

if TYPE_CHECKING:
    from clinvault.bootstrap import Container


def checkpoint_file(container: Container) -> CheckpointFile:
    path = container.settings.audit_checkpoint_path
    if path is None:
        raise RuntimeError("settings.audit_checkpoint_path is not set")
    return CheckpointFile(path)


async def run_verify(container: Container, *, chain_first: bool = True) -> VerifyReport:
    """Chain pending events, then verify every MAC, link and checkpoint."""
    return await verify_chain(
        container.db, container.audit.key, checkpoint_file(container), chain_first=chain_first
    )


async def run_export(
    container: Container,
    path: TextIO | str | os.PathLike[str],
    *,
    organization_id: uuid.UUID | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    """Write matching events as NDJSON to `path` (a file path or an open text stream)."""
    return await export_ndjson(
        container.db, path, organization_id=organization_id, since=since, until=until
    )
