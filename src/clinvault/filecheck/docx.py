"""DOCX checks: bounded ZIP, no macros, no external relationships, well-formed XML."""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path, PurePosixPath
from xml.parsers import expat

from clinvault.filecheck.model import FilePolicy, Findings

_CHUNK = 64 * 1024
# Small parts compress extremely well without harm; the ratio only matters for big ones.
_RATIO_FLOOR_BYTES = 1024 * 1024
_REQUIRED_PARTS = ("[Content_Types].xml", "word/document.xml")
_MACRO_MARKERS = ("vbaproject", "vbadata", "macroenabled", "activex")
# What a part is comes from the package's own declarations and the part's bytes, never
# from its name: a macro project renamed "word/media/image1.png" is still an OLE
# compound file, still reached through a vbaProject relationship.
_ACTIVE_RELATIONSHIP_MARKERS = (
    "vbaproject",
    "vbadata",
    "wordvbadata",
    "keymapcustomizations",
    "attachedtoolbars",
    "activex",
    "control",
    "oleobject",
    "/package",
)
_ACTIVE_CONTENT_TYPE_MARKERS = (*_MACRO_MARKERS, "oleobject", "keymapcustomizations")
_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

BOMB = (
    "The document expands to far more data than its size suggests (too many parts, "
    "too large, or too compressed). Save it again from your word processor, or save it "
    "as PDF, and upload that file."
)
MACRO = (
    "The document contains macros, ActiveX controls or embedded objects. Save it as a "
    "plain Word document (.docx) without embedded objects, or as PDF, and upload that file."
)
EXTERNAL = (
    "The document refers to content outside itself (external links, a remote template "
    "or linked images). Remove them, or save it as PDF, and upload that file."
)
INVALID = (
    "The file is not a valid Word (.docx) document. Save it again from your word "
    "processor as .docx, or as PDF, and upload that file."
)


class _Unsafe(Exception):
    """XML that declares a DOCTYPE or entities: refused before anything expands."""


def check_docx(path: Path, policy: FilePolicy, findings: Findings) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            _check_archive(archive, path.stat().st_size, policy, findings)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, zlib.error):
        findings.add("docx_invalid", INVALID)
    except (NotImplementedError, ValueError, RuntimeError):  # odd compression, encryption
        findings.add("docx_invalid", INVALID)


def _check_archive(
    archive: zipfile.ZipFile, archive_size: int, policy: FilePolicy, findings: Findings
) -> None:
    entries = archive.infolist()
    if len(entries) > policy.docx_max_entries:
        findings.add("zip_bomb", BOMB)
        return
    declared = sum(entry.file_size for entry in entries)
    if declared > policy.docx_max_uncompressed_bytes or _too_compressed(
        declared, archive_size, policy
    ):
        findings.add("zip_bomb", BOMB)
        return
    if any(_too_compressed(e.file_size, e.compress_size, policy) for e in entries):
        findings.add("zip_bomb", BOMB)
        return
    names = {entry.filename for entry in entries}
    if any(_unsafe_name(name) for name in names) or not all(p in names for p in _REQUIRED_PARTS):
        findings.add("docx_invalid", INVALID)
        return
    if any(marker in name.lower() for name in names for marker in _MACRO_MARKERS):
        findings.add("docx_macro", MACRO)
    _read_entries(archive, entries, archive_size, policy, findings)


def _read_entries(
    archive: zipfile.ZipFile,
    entries: list[zipfile.ZipInfo],
    archive_size: int,
    policy: FilePolicy,
    findings: Findings,
) -> None:
    """Decompress every entry (proving its CRC), counting the bytes really produced
    rather than trusting the headers, and parse every XML part safely."""
    produced = 0
    for entry in entries:
        if entry.is_dir():
            continue
        is_xml = entry.filename.lower().endswith((".xml", ".rels"))
        watcher = _XmlWatcher() if is_xml else None
        with archive.open(entry) as stream:
            first = True
            while chunk := stream.read(_CHUNK):
                if first and chunk.startswith(_OLE_SIGNATURE):
                    findings.add("docx_macro", MACRO)
                first = False
                produced += len(chunk)
                if produced > policy.docx_max_uncompressed_bytes:
                    findings.add("zip_bomb", BOMB)
                    return
                if watcher is not None:
                    watcher.feed(chunk)
        if _too_compressed(produced, archive_size, policy):
            findings.add("zip_bomb", BOMB)
            return
        if watcher is None:
            continue
        try:
            watcher.close()
        except (_Unsafe, expat.ExpatError):
            findings.add("docx_invalid", INVALID)
            continue
        if watcher.external_target:
            findings.add("docx_external_relationship", EXTERNAL)
        if watcher.macro_content_type:
            findings.add("docx_macro", MACRO)


def _too_compressed(uncompressed: int, compressed: int, policy: FilePolicy) -> bool:
    if uncompressed <= _RATIO_FLOOR_BYTES:
        return False
    return uncompressed > policy.docx_max_ratio * max(compressed, 1)


def _unsafe_name(name: str) -> bool:
    path = PurePosixPath(name.replace("\\", "/"))
    return path.is_absolute() or ".." in path.parts or "\x00" in name


class _XmlWatcher:
    """Parses one XML part incrementally with expat, refusing DOCTYPE and entity
    declarations, and notes external relationships and macro content types."""

    def __init__(self) -> None:
        self.external_target = False
        self.macro_content_type = False
        self._failed: Exception | None = None
        self._parser = expat.ParserCreate()
        self._parser.StartDoctypeDeclHandler = self._refuse
        self._parser.EntityDeclHandler = self._refuse
        self._parser.ExternalEntityRefHandler = self._refuse_external
        self._parser.StartElementHandler = self._start

    def feed(self, chunk: bytes) -> None:
        if self._failed is None:
            try:
                self._parser.Parse(chunk, False)
            except (_Unsafe, expat.ExpatError) as exc:
                self._failed = exc

    def close(self) -> None:
        if self._failed is None:
            self._parser.Parse(b"", True)
        if self._failed is not None:
            raise self._failed

    def _refuse(self, *_args: object) -> None:
        raise _Unsafe

    def _refuse_external(self, *_args: object) -> int:
        raise _Unsafe

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        local = name.rsplit(":", 1)[-1]
        if local == "Relationship":
            if attributes.get("TargetMode", "").lower() == "external":
                self.external_target = True
            kind = attributes.get("Type", "").lower()
            if any(marker in kind for marker in _ACTIVE_RELATIONSHIP_MARKERS):
                self.macro_content_type = True
        content_type = attributes.get("ContentType", "").lower()
        if local in {"Default", "Override"} and any(
            marker in content_type for marker in _ACTIVE_CONTENT_TYPE_MARKERS
        ):
            self.macro_content_type = True
