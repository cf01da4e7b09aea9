"""inspect_file: every check for one uploaded file, all problems reported together.

Synchronous and CPU-bound: call it from a worker thread (anyio.to_thread.run_sync).
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from clinvault.filecheck.docx import check_docx
from clinvault.filecheck.filenames import sanitize_filename
from clinvault.filecheck.images import check_image
from clinvault.filecheck.model import (
    CONTENT_TYPES,
    FileKind,
    FilePolicy,
    FileRejected,
    Findings,
    InspectedFile,
)
from clinvault.filecheck.pdf import check_pdf
from clinvault.filecheck.scanning import VirusScanner
from clinvault.filecheck.sniff import check_kind, sniff_kind
from clinvault.heap import TRIM_FROM_BYTES, release_free_heap

_HASH_CHUNK = 1024 * 1024


def inspect_file(
    path: Path,
    filename: str,
    policy: FilePolicy,
    *,
    declared_sha256: str | None = None,
    scanner: VirusScanner | None = None,
) -> InspectedFile:
    """Checks the real bytes at `path` and returns what they are.

    Raises FileRejected listing every problem found, and VirusScanFailed when a
    scanner is given but cannot answer."""
    display_name = sanitize_filename(filename)
    size = path.stat().st_size
    if size == 0:
        raise FileRejected.single(
            "empty_file", "The file is empty. Choose the document again and upload it."
        )
    if size > policy.max_bytes:
        raise FileRejected.single(
            "file_too_large",
            f"The file is {size:,} bytes; at most {policy.max_bytes:,} are accepted. "
            "Reduce it (for example scan at a lower resolution) and upload it again.",
        )
    findings = Findings()
    sha256 = _sha256(path)
    if declared_sha256 is not None and not _same_digest(declared_sha256, sha256):
        findings.add(
            "checksum_mismatch",
            "The SHA-256 sent with the file does not match the bytes received: the file "
            "changed or was cut short on the way. Upload it again with its current SHA-256.",
        )
    kind = sniff_kind(path)
    check_kind(kind, display_name, policy, findings)
    if kind is not None and kind in policy.allowed_kinds:
        _check_structure(path, kind, policy, findings)
    if scanner is not None:
        signature = scanner.scan(path)
        if signature is not None:
            findings.add(
                "malware_found",
                "The virus scanner found malware in the file. Do not upload it; scan "
                "the device it came from and upload a clean copy of the document.",
            )
    if findings or kind is None:
        raise FileRejected(findings.problems)
    return InspectedFile(
        kind=kind,
        content_type=CONTENT_TYPES[kind],
        size=size,
        sha256=sha256,
        filename=display_name,
    )


def _check_structure(path: Path, kind: FileKind, policy: FilePolicy, findings: Findings) -> None:
    try:
        if kind is FileKind.PDF:
            check_pdf(path, policy, findings)
        elif kind is FileKind.DOCX:
            check_docx(path, policy, findings)
        else:
            check_image(path, kind, policy.max_pixels, findings)
    finally:
        if path.stat().st_size >= TRIM_FROM_BYTES:
            release_free_heap()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _same_digest(declared: str, actual: str) -> bool:
    return hmac.compare_digest(declared.strip().lower().encode(), actual.encode())
