"""What `clinvault audit verify`, `audit export` and `audit keygen` run.

Also where the checkpointer (signing key, local file, external anchor) is
built from Settings, for the app's chainer and for the commands alike.
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import structlog

from clinvault.audit.anchors import LogLinesReader, anchor_reader, open_anchor
from clinvault.audit.checkpoints import Anchor, AnchorReader, Checkpointer, CheckpointFile
from clinvault.audit.export import export_ndjson
from clinvault.audit.signing import (
    CheckpointSigner,
    CheckpointVerifier,
    generate_key_pair,
    load_signer,
    load_verifier,
)
from clinvault.audit.verify import VerifyReport, verify_chain
from clinvault.config import Settings

if TYPE_CHECKING:
    from clinvault.bootstrap import Container

log = structlog.get_logger(__name__)


def _paths(settings: Settings) -> tuple[Path, Path, Path]:
    checkpoints = settings.audit_checkpoint_path
    signing = settings.audit_signing_key_path
    public = settings.audit_verify_key_path
    if checkpoints is None or signing is None or public is None:
        raise RuntimeError("settings were not validated: audit paths are unset")
    return checkpoints, signing, public


def checkpoint_file(settings: Settings) -> CheckpointFile:
    return CheckpointFile(_paths(settings)[0])


def open_signer(settings: Settings) -> CheckpointSigner:
    """The signing key; generated on first use outside production."""
    _, signing, public = _paths(settings)
    return load_signer(signing, public, create=settings.env != "production")


def open_verifier(settings: Settings) -> CheckpointVerifier:
    _, signing, public = _paths(settings)
    return load_verifier(public, signing)


def open_configured_anchor(settings: Settings) -> Anchor | None:
    return open_anchor(
        settings.audit_anchor_url,
        retention_days=settings.audit_anchor_retention_days,
        s3_endpoint_url=settings.s3_endpoint_url,
    )


def open_checkpointer(settings: Settings) -> Checkpointer:
    """Signer, local file and anchor, as configured."""
    anchor = open_configured_anchor(settings)
    if anchor is None and settings.env == "production":
        log.warning(
            "audit.anchor.local_only",
            hint="set CLINVAULT_AUDIT_ANCHOR_URL so checkpoints leave this host",
        )
    return Checkpointer(
        checkpoint_file(settings),
        open_signer(settings),
        anchor,
        settings.audit_anchor_interval_seconds,
    )


async def run_verify(
    container: Container, *, chain_first: bool = True, anchor_log: Path | None = None
) -> VerifyReport:
    """Chain pending events (unless told not to), then verify MACs, links and checkpoints.

    The external anchor is read back when it can be (S3, directory); for a
    syslog anchor, `anchor_log` is the file of lines the log server kept.
    """
    settings = container.settings
    chainer = open_checkpointer(settings) if chain_first else None
    anchor = chainer.anchor if chainer is not None else open_configured_anchor(settings)
    reader: AnchorReader | None = anchor_reader(anchor)
    note = None
    if anchor_log is not None:
        reader = LogLinesReader(anchor_log)
    elif anchor is not None and reader is None:
        note = (
            f"anchor {anchor.description} is write-only from here: pass --anchor-log with "
            "the checkpoint lines the log server kept to check the log against them"
        )
    return await verify_chain(
        container.db,
        container.audit.key,
        checkpoint_file(settings),
        open_verifier(settings),
        chainer=chainer,
        anchor=reader,
        anchor_note=note,
    )


def run_keygen(settings: Settings) -> CheckpointVerifier:
    """Create the signing key pair at the configured paths; never replaces a key."""
    _, signing, public = _paths(settings)
    return generate_key_pair(signing, public).verifier


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
