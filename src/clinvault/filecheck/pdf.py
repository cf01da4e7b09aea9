"""PDF checks with pikepdf (qpdf): intact, unencrypted, inert, nothing appended."""

from __future__ import annotations

import mmap
from pathlib import Path

import pikepdf

from clinvault.filecheck.model import Findings

# Keys whose presence means the document can act on its own: run scripts, launch
# programs, carry other files, or embed interactive/multimedia content.
_ACTIVE_KEYS = frozenset(
    {
        "/JS",
        "/JavaScript",
        "/OpenAction",
        "/AA",
        "/Launch",
        "/EmbeddedFiles",
        "/EmbeddedFile",
        "/EF",
        "/XFA",
        "/RichMedia",
        "/RichMediaContent",
        "/RichMediaExecute",
    }
)
# Action and annotation types that execute, fetch or submit something.
_ACTIVE_TYPES = frozenset(
    {
        "/JavaScript",
        "/Launch",
        "/ImportData",
        "/SubmitForm",
        "/GoToE",
        "/RichMedia",
        "/RichMediaExecute",
        "/FileAttachment",
        "/EmbeddedFile",
    }
)
_TYPE_KEYS = ("/S", "/Subtype", "/Type")
_TAIL_BYTES = 1024 * 1024
_EOF_MARKER = b"%%EOF"
_PDF_HEADER = b"%PDF-"
_PDF_WHITESPACE = b" \t\r\n\f\x00"

DAMAGED = (
    "The PDF is damaged and could only be read after repairing it. Open it in a PDF "
    "reader, save or print it to a new PDF, and upload that file."
)
ENCRYPTED = (
    "The PDF is encrypted or password-protected. Remove the password (save an "
    "unprotected copy) and upload that file."
)
ACTIVE_CONTENT = (
    "The PDF contains active content (scripts, automatic actions, embedded files, forms "
    "or multimedia). Print it to a new PDF or re-scan the paper document and upload that."
)
TRAILING = (
    "The file has extra data after the end of the PDF. Save or print it to a new PDF "
    "and upload that file."
)
LEADING = (
    "The file has extra data before the start of the PDF. Save or print it to a new PDF "
    "and upload that file."
)
NO_PAGES = "The PDF has no pages. Upload the complete document."


def check_pdf(path: Path, findings: Findings) -> None:
    _check_surroundings(path, findings)
    try:
        pdf = pikepdf.open(path, attempt_recovery=False, inherit_page_attributes=False)
    except pikepdf.PasswordError:
        findings.add("pdf_encrypted", ENCRYPTED)
        return
    except (pikepdf.PdfError, ValueError, RecursionError):
        findings.add("pdf_repaired", DAMAGED)
        return
    with pdf:
        if pdf.is_encrypted:
            findings.add("pdf_encrypted", ENCRYPTED)
        try:
            active = _has_active_content(pdf)
            page_count = len(pdf.pages)
        except (pikepdf.PdfError, ValueError, RecursionError):
            findings.add("pdf_repaired", DAMAGED)
            return
        if pdf.get_warnings():
            findings.add("pdf_repaired", DAMAGED)
        if active:
            findings.add("pdf_active_content", ACTIVE_CONTENT)
        if page_count == 0:
            findings.add("pdf_no_pages", NO_PAGES)


def _check_surroundings(path: Path, findings: Findings) -> None:
    """Bytes before %PDF- or after the last %%EOF (an appended ZIP, HTML, ...) make a
    polyglot that other programs read as something else; qpdf accepts both silently."""
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        if data[: len(_PDF_HEADER)] != _PDF_HEADER:
            findings.add("leading_data", LEADING)
        start = max(0, len(data) - _TAIL_BYTES)
        end = data.rfind(_EOF_MARKER, start)
        if end < 0:
            # qpdf needs startxref near the end, so it reports this file as damaged.
            return
        tail = data[end + len(_EOF_MARKER) :]
    if tail.strip(_PDF_WHITESPACE):
        findings.add("trailing_data", TRAILING)


def _has_active_content(pdf: pikepdf.Pdf) -> bool:
    """Walk every object in the file, including those packed in object streams and
    those nothing references, and every direct object nested inside them."""
    pending: list[object] = [pdf.trailer]
    pending.extend(pdf.objects)
    while pending:
        obj = pending.pop()
        if isinstance(obj, pikepdf.Stream):
            obj = obj.stream_dict
        if isinstance(obj, pikepdf.Dictionary):
            if _is_active_dictionary(obj):
                return True
            pending.extend(value for _, value in obj.items() if _is_direct_container(value))
        elif isinstance(obj, pikepdf.Array):
            pending.extend(value for value in obj if _is_direct_container(value))
    return False


def _is_direct_container(value: object) -> bool:
    # Indirect objects are visited on their own from pdf.objects; scalars hold nothing.
    return isinstance(value, pikepdf.Dictionary | pikepdf.Array) and not value.is_indirect


def _is_active_dictionary(obj: pikepdf.Dictionary) -> bool:
    keys = set(obj.keys())
    if keys & _ACTIVE_KEYS:
        return True
    for key in _TYPE_KEYS:
        if key in keys:
            value = obj[key]
            if isinstance(value, pikepdf.Name) and str(value) in _ACTIVE_TYPES:
                return True
    return False
