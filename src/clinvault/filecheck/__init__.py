"""Validation of uploaded files by their real bytes.

Pure and synchronous (no database, no HTTP): callers run `inspect_file` through a
`FileCheckPool` (worker threads, a few files at a time) and map
`FileRejected.problems` to their own error response.
"""

from clinvault.filecheck.filenames import sanitize_filename
from clinvault.filecheck.inspection import inspect_file
from clinvault.filecheck.model import (
    FileKind,
    FilePolicy,
    FileProblem,
    FileRejected,
    InspectedFile,
    VirusScanFailed,
)
from clinvault.filecheck.pool import FileCheckPool
from clinvault.filecheck.scanning import ClamdScanner, VirusScanner, open_scanner

__all__ = [
    "ClamdScanner",
    "FileCheckPool",
    "FileKind",
    "FilePolicy",
    "FileProblem",
    "FileRejected",
    "InspectedFile",
    "VirusScanFailed",
    "VirusScanner",
    "inspect_file",
    "open_scanner",
    "sanitize_filename",
]
