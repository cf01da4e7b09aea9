"""What a file check accepts, finds and returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class FileKind(StrEnum):
    PDF = "pdf"
    JPEG = "jpeg"
    PNG = "png"
    DOCX = "docx"


CONTENT_TYPES: dict[FileKind, str] = {
    FileKind.PDF: "application/pdf",
    FileKind.JPEG: "image/jpeg",
    FileKind.PNG: "image/png",
    FileKind.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}

EXTENSIONS: dict[str, FileKind] = {
    "pdf": FileKind.PDF,
    "jpg": FileKind.JPEG,
    "jpeg": FileKind.JPEG,
    "png": FileKind.PNG,
    "docx": FileKind.DOCX,
}

LABELS: dict[FileKind, str] = {
    FileKind.PDF: "a PDF document",
    FileKind.JPEG: "a JPEG image",
    FileKind.PNG: "a PNG image",
    FileKind.DOCX: "a Word (.docx) document",
}


@dataclass(frozen=True)
class FilePolicy:
    allowed_kinds: frozenset[FileKind] = frozenset({FileKind.PDF})
    max_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 40_000_000
    docx_max_entries: int = 1000
    docx_max_uncompressed_bytes: int = 100 * 1024 * 1024
    docx_max_ratio: int = 100
    # Every stream of a PDF together, once decoded; and the pixels of one PDF image
    # (a 600 dpi scan of an A2 sheet has about 140 million).
    pdf_max_decoded_bytes: int = 256 * 1024 * 1024
    pdf_max_image_pixels: int = 150_000_000


@dataclass(frozen=True)
class FileProblem:
    """One reason a file is refused: a stable snake_case `code` and a `detail` saying
    what is wrong and how to fix it. The detail never quotes the file's contents."""

    code: str
    detail: str


@dataclass(frozen=True)
class InspectedFile:
    kind: FileKind
    content_type: str
    size: int
    sha256: str
    filename: str


class FileRejected(Exception):
    """The file failed one or more checks; `problems` lists every one found."""

    def __init__(self, problems: list[FileProblem]) -> None:
        super().__init__("; ".join(problem.code for problem in problems))
        self.problems = problems

    @classmethod
    def single(cls, code: str, detail: str) -> FileRejected:
        return cls([FileProblem(code, detail)])

    @property
    def codes(self) -> list[str]:
        return [problem.code for problem in self.problems]


class VirusScanFailed(Exception):
    """The virus scanner could not give a verdict (unreachable, timed out, errored).

    Not the uploader's fault: callers answer 503 and keep nothing."""


@dataclass
class Findings:
    """Problems collected while checking one file, in the order they were found."""

    problems: list[FileProblem] = field(default_factory=list)

    def add(self, code: str, detail: str) -> None:
        if all(problem.code != code for problem in self.problems):
            self.problems.append(FileProblem(code, detail))

    def __bool__(self) -> bool:
        return bool(self.problems)
