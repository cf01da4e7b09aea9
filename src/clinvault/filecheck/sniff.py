"""The file's kind from its bytes (libmagic), compared with its name and the policy."""

from __future__ import annotations

from pathlib import Path

import magic

from clinvault.filecheck.filenames import extension_of
from clinvault.filecheck.model import EXTENSIONS, LABELS, FileKind, FilePolicy, Findings

# libmagic names a DOCX by its first parts; one written by another tool in a different
# order is reported as a plain ZIP. Either is treated as a DOCX candidate, and the DOCX
# checks then prove the structure.
_MIME_KINDS: dict[str, FileKind] = {
    "application/pdf": FileKind.PDF,
    "image/jpeg": FileKind.JPEG,
    "image/png": FileKind.PNG,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": FileKind.DOCX,
    "application/zip": FileKind.DOCX,
}


def sniff_kind(path: Path) -> FileKind | None:
    # By descriptor: `path` may name an in-memory file (/proc/self/fd/N, see
    # clinvault.storage.spool), which libmagic would report as the link it is.
    with path.open("rb") as handle:
        mime: str = magic.from_descriptor(handle.fileno(), mime=True)
    return _MIME_KINDS.get(mime)


def _accepted(policy: FilePolicy) -> str:
    kinds = sorted(policy.allowed_kinds, key=list(FileKind).index)
    names = sorted({ext for ext, kind in EXTENSIONS.items() if kind in kinds})
    return ", ".join(f".{name}" for name in names) or "none"


def check_kind(
    sniffed: FileKind | None, filename: str, policy: FilePolicy, findings: Findings
) -> None:
    """Records every disagreement between content, name and policy."""
    extension = extension_of(filename)
    named = EXTENSIONS.get(extension) if extension else None
    accepted = _accepted(policy)
    if sniffed is None and named is not None:
        findings.add(
            "type_mismatch",
            f"The file name ends in .{extension} but the content is not {LABELS[named]}. "
            "Upload the intended document, with the extension that matches its content.",
        )
        return
    if sniffed is None:
        findings.add(
            "type_not_allowed",
            "The file's content is not a type accepted here (accepted: "
            f"{accepted}). Upload the document in one of those formats.",
        )
        return
    if extension is None:
        findings.add(
            "filename_invalid",
            f"The file name has no extension. The content is {LABELS[sniffed]}; "
            "name the file accordingly and upload it again.",
        )
    elif named is not sniffed:
        findings.add(
            "type_mismatch",
            f"The file name ends in .{extension} but the content is {LABELS[sniffed]}. "
            "Upload the intended document, with the extension that matches its content.",
        )
    if sniffed not in policy.allowed_kinds:
        findings.add(
            "type_not_allowed",
            f"The content is {LABELS[sniffed]}, which is not accepted here (accepted: "
            f"{accepted}). Upload the document in one of those formats.",
        )
